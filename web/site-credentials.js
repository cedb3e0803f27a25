// Who this browser is to a site: its owner (an owner token: owner-token.js), one of its standbys
// (a member id and token the service gave when a standby link was used: signaling/leases.py), or,
// from a standby link, a grant to use once. Kept in this browser's localStorage, as the owner
// token is: a site's own code runs on another origin and cannot read them.

import { ownerToken, storedToken } from "./owner-token.js";

const memberKey = (name) => `peerserver.standby.${name}`;

/** The standby credentials this browser holds for `name` ({member, memberToken}), or null. */
export function memberCredentials(name) {
  try {
    const { member, memberToken } = JSON.parse(localStorage.getItem(memberKey(name)) ?? "null");
    return typeof member === "string" && typeof memberToken === "string"
      ? { member, memberToken }
      : null;
  } catch {
    return null;
  }
}

export function keepMemberCredentials(name, { member, memberToken }) {
  localStorage.setItem(memberKey(name), JSON.stringify({ member, memberToken }));
}

export function forgetMemberCredentials(name) {
  localStorage.removeItem(memberKey(name));
}

export class OwnBrowserError extends Error {}

/**
 * The credentials a server tab of `name` uses here: with a standby link's `grant`, that (once;
 * not in the owner's own browser, which serves the site already); else this browser's standby
 * credentials, if it is a standby; else the owner's token (made, for a new site).
 */
export function siteCredentials(name, grant = null) {
  if (grant) {
    if (storedToken(name)) {
      throw new OwnBrowserError(
        `This browser is the owner of "${name}": open the standby link in another browser (or another profile), where the copy will live.`,
      );
    }
    return { grant };
  }
  return memberCredentials(name) ?? { token: ownerToken(name) };
}
