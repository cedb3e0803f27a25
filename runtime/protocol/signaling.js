// The signaling protocol: what a server tab (serving or standing by) and a visitor's shell say
// to the signaling service over its WebSocket, and what it says to them. signaling/messages.py
// is the service's writing of it, and its docstring describes every message and field;
// tests/signaling/test_signaling_protocol.py checks that the two agree.
//
// Peers are named "INSTANCE/N" by the service. A signal's data is {sdp} (an offer or an
// answer), {candidate} (one trickled ICE candidate, null when there are no more), or a server
// tab's word that it will not answer a visitor's offer: {busy} (a sentence saying why) or
// {moved: true} (another tab serves the site now). The service passes it on opaque.

// What peers send:
export const REGISTER = "register";
export const JOIN = "join";
export const SIGNAL = "signal";
export const PACKAGE_TICKET = "package-ticket";
export const RENEW = "renew";
export const SYNC = "sync";
export const STANDBY_GRANT = "standby-grant";
export const STANDBY_REMOVE = "standby-remove";
export const HANDOVER = "handover";
export const RESIGN = "resign";
export const TAKE_OVER = "take-over";
export const ICE_SERVERS = "ice-servers";
// What the service sends (and SIGNAL, PACKAGE_TICKET, STANDBY_GRANT, ICE_SERVERS: answers):
export const REGISTERED = "registered";
export const STANDBY = "standby";
export const JOINED = "joined";
export const RENEW_LEASE = "renew-lease";
export const LEASE = "lease";
export const SYNCED = "synced";
export const MEMBERS = "members";
export const CLIENT_LEFT = "client-left";
export const SERVER_STATUS = "server-status";
export const REPLACED = "replaced";
export const DEMOTED = "demoted";
export const HANDED_OVER = "handed-over";
export const MOVE_TO = "move-to";
export const REMOVED = "removed";
export const ERROR = "error";

/** Every type of message the service sends. */
export const SERVICE_SENDS = new Set([
  REGISTERED,
  STANDBY,
  JOINED,
  RENEW_LEASE,
  LEASE,
  SYNCED,
  MEMBERS,
  STANDBY_GRANT,
  SIGNAL,
  CLIENT_LEFT,
  SERVER_STATUS,
  PACKAGE_TICKET,
  REPLACED,
  DEMOTED,
  HANDED_OVER,
  MOVE_TO,
  REMOVED,
  ERROR,
  ICE_SERVERS,
]);

/** Error codes that say the name is not (or no longer) this tab's: it says why, and stops. */
export const NAME_LOST = new Set([
  "taken",
  "invalid",
  "quota",
  "released",
  "not-a-standby",
  "bad-grant",
  "too-many",
]);

/** Error codes that refuse a planned move (a handover). */
export const MOVE_REFUSED = new Set(["not-in-sync", "not-serving"]);

/** What peers send the service. A serving tab's requests carry its lease's `epoch`; `n`
 * numbers a tab's lease requests, so that it knows which answer is whose. */
export const toService = {
  /** The owner's tab (`token`), or a standby's (`member`, `memberToken`): it serves, or
   * stands by. `complete`: whether this tab's copy of the site is whole.
   * @param {{name: string, token?: string, member?: string, memberToken?: string, n: number,
   *   complete: boolean}} tab */
  register: ({ name, token, member, memberToken, n, complete }) => ({
    type: REGISTER,
    name,
    ...(member ? { member, memberToken } : { token }),
    n,
    complete,
  }),
  /** A standby link used: its grant, and where this tab is (a browser's name).
   * @param {string} name @param {string} grant @param {string} where */
  join: (name, grant, where) => ({ type: JOIN, name, grant, where }),
  /** Signal data to the peer `to` (a serving tab's, to a visitor or a standby); without `to`,
   * to the serving tab (a visitor's, or a standby's). @param {object} data @param {string} [to] */
  signal: (data, to) => (to === undefined ? { type: SIGNAL, data } : { type: SIGNAL, to, data }),
  packageTicket: () => ({ type: PACKAGE_TICKET }),
  /** @param {number} epoch @param {number} n */
  renew: (epoch, n) => ({ type: RENEW, epoch, n }),
  /** The standbys whose copies hold every answered write, the most up to date first.
   * @param {number} epoch @param {string[]} inSync */
  sync: (epoch, inSync) => ({ type: SYNC, epoch, inSync }),
  /** @param {number} epoch */
  standbyGrant: (epoch) => ({ type: STANDBY_GRANT, epoch }),
  /** @param {number} epoch @param {string} member */
  standbyRemove: (epoch, member) => ({ type: STANDBY_REMOVE, epoch, member }),
  /** @param {number} epoch @param {string} to: an in-sync standby's member id */
  handover: (epoch, to) => ({ type: HANDOVER, epoch, to }),
  /** @param {number} epoch */
  resign: (epoch) => ({ type: RESIGN, epoch }),
  takeOver: () => ({ type: TAKE_OVER }),
  askIceServers: () => ({ type: ICE_SERVERS }),
};

/** What a server tab says to a visitor's offer it will not answer. */
export const refusals = {
  /** @param {string} why */
  busy: (why) => ({ busy: why }),
  moved: () => ({ moved: true }),
};
