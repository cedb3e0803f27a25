// What the top bar's status says: whether the name is served, and whether what serves it is the
// site's current code (a site whose code failed to load is not simply "Serving").

export class StatusLine {
  constructor(element) {
    this.element = element;
    this.serving = false;
    this.reconnecting = false;
    this.load = null; // the last load result
    this.label = "Starting…"; // what it says while not serving
  }

  /** Not serving (yet, or any more): `label` says what happens. */
  busy(label) {
    this.serving = false;
    this.show(label);
  }

  served() {
    this.serving = true;
    this.reconnecting = false;
    this.show();
  }

  signalingLost() {
    this.reconnecting = true;
    this.show();
  }

  loaded(load) {
    this.load = load;
    this.show();
  }

  show(label = null) {
    if (label !== null) this.label = label;
    this.element.textContent = this.text();
    this.element.classList.toggle(
      "status-bad",
      Boolean(this.serving && this.load && !this.load.ok),
    );
  }

  text() {
    if (!this.serving) return this.label;
    if (this.load && !this.load.ok) {
      return this.load.module
        ? "Serving the previous version: the new code failed to load"
        : "Not serving the app: its code failed to load";
    }
    return this.reconnecting ? "Serving · reconnecting to PeerServer…" : "Serving";
  }
}
