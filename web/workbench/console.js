// The Python console: statements run inside the site's runtime with the app's context; commands
// run as at a terminal in the site's folder: `flask ...`, `pytest ...`, `python manage.py ...`,
// `python SCRIPT`. What a long command prints shows as it comes. Up and down walk the history.
//
// A command that asks a question (Django's createsuperuser: username, email, password) stops
// there: the console shows the question, the owner's next line answers it (unseen, for a
// password), and the command runs again with the answers so far (server_py.workbench.console).

import { hasTraceback, renderTraceback } from "./traceback.js";

export class Console {
  constructor({ host, form, input, output, onRan, siteRoot }) {
    Object.assign(this, { host, form, input, output, onRan, siteRoot });
    this.history = [];
    this.position = 0;
    this.asking = null; // {source, answers, block} while a command waits for an answer
    this.block = null; // where the running command's output goes
    host.addEventListener("output", ({ detail }) => this.show(detail.text));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.asking) this.answer(input.value);
      else this.run(input.value);
    });
    input.addEventListener("keydown", (event) => {
      if (this.asking || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      this.position = Math.max(
        0,
        Math.min(this.history.length, this.position + (event.key === "ArrowUp" ? -1 : 1)),
      );
      input.value = this.history[this.position] ?? "";
    });
  }

  async run(source) {
    if (!source.trim()) return;
    this.history.push(source);
    this.position = this.history.length;
    this.output.append(`>>> ${source}\n`);
    await this.execute(source, []);
  }

  answer(text) {
    const { source, answers, block } = this.asking;
    this.asking = null;
    this.setSecret(false);
    block.remove(); // the command runs again from the start, its questions answered
    return this.execute(source, [...answers, text]);
  }

  /** Run `source` with `answers` to its questions; its output replaces that of its last try. */
  async execute(source, answers) {
    this.input.value = "";
    this.input.disabled = true; // one command at a time; a test run may take a while
    this.block = document.createElement("span");
    this.output.append(this.block);
    let result;
    try {
      result = await this.host.console(source, answers);
      this.show(result.output);
    } catch (error) {
      this.show(`${error.message}\n`);
    } finally {
      this.input.disabled = false;
      this.input.focus();
    }
    if (result?.prompt !== undefined) {
      this.asking = { source, answers, block: this.block };
      this.setSecret(result.secret);
      return;
    }
    this.block = null;
    await this.onRan();
  }

  show(text) {
    if (!text) return;
    const following =
      this.output.scrollHeight - this.output.scrollTop - this.output.clientHeight < 8;
    const target = this.block ?? this.output;
    target.append(hasTraceback(text) ? renderTraceback(text, this.siteRoot) : text);
    if (following) this.output.scrollTop = this.output.scrollHeight;
  }

  /** The next line is a password: typed unseen, as at a terminal. */
  setSecret(secret) {
    this.input.type = secret ? "password" : "text";
  }
}
