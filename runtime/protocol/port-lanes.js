// Many conversations over one MessagePort, each a lane with a MessagePort's ways (postMessage,
// onmessage, close), its messages tagged with the lane's number: a shell's requests from its
// service worker come so over the one port the shell handed it (service-worker.js). A
// MessageChannel per request costs two entangled ports made and one moved between threads; a
// lane costs a number.
//
// One end opens lanes (`open`); the other learns of each by its first message, which `opens`
// must accept (anything else for a lane it does not know is late news of one that ended, and
// dropped). A lane ends when its end closes it, or, at an end given `ends`, once a message
// that `ends(message)` says is a conversation's last has gone either way.

export class PortLanes {
  /**
   * `port`: a MessagePort (its onmessage is taken). `opens(message)`: whether a message for an
   * unknown lane opens one (then `opened(lane, message)` has it); `ends(message)`: whether a
   * message ends its lane.
   */
  constructor(port, { opens = () => false, opened = () => {}, ends = () => false } = {}) {
    Object.assign(this, { port, opens, opened, ends });
    this.lanes = new Map(); // number -> Lane
    this.next = 1;
    port.onmessage = (event) => this.receive(event.data);
  }

  /** A new lane: its first message opens it at the other end. */
  open() {
    return this.add(this.next++);
  }

  add(number) {
    const lane = new Lane(this, number);
    this.lanes.set(number, lane);
    return lane;
  }

  receive(data) {
    if (typeof data?.lane !== "number") return;
    const { lane: number, ...message } = data;
    const known = this.lanes.get(number);
    if (!known) {
      if (this.opens(message)) this.opened(this.add(number), message);
      return;
    }
    if (this.ends(message)) known.close();
    known.onmessage?.({ data: message });
  }
}

class Lane {
  constructor(lanes, number) {
    this.lanes = lanes;
    this.number = number;
    this.onmessage = null;
    this.closed = false;
  }

  postMessage(message, transfer = []) {
    if (this.closed) return;
    this.lanes.port.postMessage({ ...message, lane: this.number }, transfer);
    if (this.lanes.ends(message)) this.close();
  }

  close() {
    this.closed = true;
    this.lanes.lanes.delete(this.number);
  }
}
