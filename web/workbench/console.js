// The Python console: statements run inside the site's runtime with the app's context;
// `flask ...` runs the app's command line. Up and down walk the history.

export class Console {
  constructor({ host, form, input, output, onRan }) {
    Object.assign(this, { host, form, input, output, onRan });
    this.history = [];
    this.position = 0;
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
    this.output.append(`>>> ${source}\n`);
    try {
      this.output.append(await this.host.call("run", source));
    } catch (error) {
      this.output.append(`${error.message}\n`);
    }
    this.output.scrollTop = this.output.scrollHeight;
    await this.onRan();
  }
}
