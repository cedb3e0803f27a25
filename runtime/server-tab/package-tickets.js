// Package tickets: what the package service asks of a server tab (signaling/tickets.py). The hub
// hands one over when the tab registers its name, and a fresh one when asked; the Python worker
// asks this tab for one before each request to the package service.

import { toService } from "../protocol/signaling.js";

const FRESH_MS = 30 * 60 * 1000; // tickets last an hour: ask anew after half of it
const WAIT_MS = 60000;

export class PackageTickets {
  /** `signaling` sends to the hub; `registered()` says whether the name is registered now. */
  constructor(signaling, registered, { now = () => Date.now() } = {}) {
    Object.assign(this, { signaling, registered, now });
    this.ticket = null; // {value, received}
    this.wanted = null; // a promise of the next ticket, while one is awaited
    this.arrived = null;
  }

  /** A ticket fresh enough; waits for the name to be registered, at most a minute. */
  get() {
    if (this.ticket && this.now() - this.ticket.received < FRESH_MS) {
      return Promise.resolve(this.ticket.value);
    }
    this.wanted ??= new Promise((resolve, reject) => {
      const giveUp = setTimeout(() => {
        this.wanted = null;
        reject(
          new Error("the signaling service did not answer, so the package service cannot be asked"),
        );
      }, WAIT_MS);
      this.arrived = (value) => {
        clearTimeout(giveUp);
        this.wanted = null;
        resolve(value);
      };
      if (this.registered()) this.signaling.send(toService.packageTicket());
    });
    return this.wanted;
  }

  /** A ticket from the hub (with "registered", or a "package-ticket" answer). */
  keep(value) {
    if (typeof value !== "string") return;
    this.ticket = { value, received: this.now() };
    this.arrived?.(value);
    this.arrived = null;
  }
}
