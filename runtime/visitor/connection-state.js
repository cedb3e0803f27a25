// Where a visitor's connection to a site's server tab stands, as an EventTarget: the shell's
// SiteClient (which makes the connection) says it, and what sends requests over it waits on it,
// on the shell's page or in its request worker (requests-in-worker.js), which hears it said.
//
// Events: state (detail {state, reason}: "connecting" | "connected" | "offline" | "failed" |
// "busy" | "reconnecting" | "stopped"; "failed" means no network path to the server tab was
// found, "busy" that the server tab serves as many visitors as it may, and each says why;
// "reconnecting" that the signaling service is out of reach for now; "stopped", for good).

export const GIVEN_UP = new Set(["failed", "busy"]); // states that wait for the server to come back
export const CONNECT_TIMEOUT_MS = 15000;

export class ConnectionState extends EventTarget {
  constructor() {
    super();
    this.state = "connecting";
    this.reason = null;
  }

  setState(state, reason = null) {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, reason } }));
  }

  /** Resolve once connected; reject when no path is found, or after `timeoutMs`. */
  connected(timeoutMs = CONNECT_TIMEOUT_MS) {
    if (this.state === "connected") return Promise.resolve();
    if (GIVEN_UP.has(this.state)) return Promise.reject(new Error(this.reason));
    return new Promise((resolve, reject) => {
      const settle = (error) => {
        clearTimeout(timer);
        this.removeEventListener("state", onState);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => settle(new Error("the server did not answer")), timeoutMs);
      const onState = () => {
        if (this.state === "connected") settle();
        else if (GIVEN_UP.has(this.state)) settle(new Error(this.reason));
      };
      this.addEventListener("state", onState);
    });
  }
}
