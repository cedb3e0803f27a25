// The Python console: statements run inside the site's runtime with the app's context;
// `flask ...` runs the app's command line, `pytest ...` the site's tests (their output shows
// as it comes). Up and down walk the history.

import { hasTraceback, renderTraceback } from "/web/workbench/traceback.js";

export class Console {
  constructor({ host, form, input, output, onRan, siteRoot }) {
    Object.assign(this, { host, form, input, output, onRan, siteRoot });
    this.history = [];
    this.position = 0;
    host.addEventListener("output", ({ detail }) => this.show(detail.text));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(input.value);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
      event.preventDefault();
      this.position = Math.max(0, Math.min(this.history.length,
        this.position + (event.key === "ArrowUp" ? -1 : 1)));
      input.value = this.history[this.position] ?? "";
    });
  }

  async run(source) {
    if (!source.trim()) return;
    this.history.push(source);
    this.position = this.history.length;
    this.input.value = "";
    this.show(`>>> ${source}\n`);
    this.input.disabled = true; // one command at a time; a test run may take a while
    try {
      this.show(await this.host.call("run", source));
    } catch (error) {
      this.show(`${error.message}\n`);
    } finally {
      this.input.disabled = false;
      this.input.focus();
    }
    await this.onRan();
  }

  show(text) {
    const following = this.output.scrollHeight - this.output.scrollTop - this.output.clientHeight < 8;
    this.output.append(hasTraceback(text) ? renderTraceback(text, this.siteRoot) : text);
    if (following) this.output.scrollTop = this.output.scrollHeight;
  }
}
