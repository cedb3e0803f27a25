// The server tab's Standbys tab: a standby link to invite one (a grant from the service, for
// this site only, usable once, for minutes: never the owner's token), with its QR code; and
// the standbys, where each is, since when, how its copy stands, with "Move serving to it"
// (a planned move) and "Remove".

import { showQrCode } from "./share.js";

const STATES = {
  copying: "copying the site",
  "in sync": "in sync",
  "catching up": "catching up",
  lagging: "out of sync: it did not confirm a change in time",
};

export class StandbysView {
  /**
   * `host` is the SiteHost; `elements`: add, invite, link, expiry, copy, qr (buttons and
   * places of the panel), dialog and code (the QR code dialog), list (a table), none, problem.
   */
  constructor({ host, name, elements }) {
    Object.assign(this, { host, name, elements });
    elements.add.addEventListener("click", () => this.invite());
    elements.copy.addEventListener("click", () => this.copyLink());
    elements.qr.addEventListener("click", () =>
      showQrCode(elements, elements.link.href, {
        dialog: "The standby link as a QR code",
        image: "QR code of the standby link",
      }),
    );
    host.addEventListener("standbys", ({ detail }) => this.show(detail));
  }

  async invite() {
    const { elements } = this;
    try {
      const { grant, expires } = await this.host.standbyGrant();
      const link = `${location.origin}/standby/${encodeURIComponent(this.name)}#${grant}`;
      elements.link.href = link;
      elements.link.textContent = link;
      elements.expiry.textContent = new Date(expires).toLocaleTimeString();
      elements.invite.hidden = false;
      this.problem(null);
    } catch (error) {
      this.problem(`No standby link could be made: ${error.message}`);
    }
  }

  async copyLink() {
    const { copy, link } = this.elements;
    try {
      await navigator.clipboard.writeText(link.href);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Select the link to copy it";
    }
    setTimeout(() => {
      copy.textContent = "Copy link";
    }, 2000);
  }

  /** The standbys: the service's members, with the replication state of those connected. */
  show({ members, connected }) {
    const { list, none } = this.elements;
    const body = list.tBodies[0];
    body.replaceChildren(...members.map((member) => this.row(member, connected)));
    list.hidden = members.length === 0;
    none.hidden = members.length > 0;
  }

  row(member, connected) {
    const replication = connected.find((standby) => standby.member === member.id);
    const row = document.createElement("tr");
    const cell = (text) => {
      const td = document.createElement("td");
      td.textContent = text;
      row.append(td);
      return td;
    };
    cell(member.where);
    cell(new Date(member.since * 1000).toLocaleString());
    cell(copyState(member, replication));
    const actions = cell("");
    const move = button("Move serving to it", `Move serving to it: ${member.where}`);
    move.disabled = !member.inSync;
    move.title = member.inSync ? "" : "Only a standby in sync can take over.";
    move.addEventListener("click", () => this.move(member, move));
    const remove = button("Remove", `Remove the standby ${member.where}`);
    remove.addEventListener("click", () => this.host.removeStandby(member.id));
    actions.append(move, " ", remove);
    return row;
  }

  async move(member, control) {
    control.disabled = true;
    try {
      await this.host.moveTo(member.id);
      this.problem(null);
    } catch (error) {
      this.problem(`The site was not moved: ${error.message}`);
      control.disabled = false;
    }
  }

  problem(text) {
    this.elements.problem.hidden = text === null;
    this.elements.problem.textContent = text ?? "";
  }
}

/** How a standby's copy stands, in words. */
export function copyState(member, replication) {
  if (!replication) return member.standing ? "connected, not copying yet" : "away";
  const state = STATES[replication.state] ?? replication.state;
  const behind = replication.behind;
  return behind ? `${state}, ${behind} change${behind === 1 ? "" : "s"} behind` : state;
}

function button(text, label) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  return element;
}
