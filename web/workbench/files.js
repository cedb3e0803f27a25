// The sidebar's file tree: open, create, rename, delete, and upload by picker or drag and drop
// (folders keep their structure, bytes arrive unchanged).

const KIND_LABELS = {
  python: "Python",
  template: "Template",
  html: "HTML",
  css: "CSS",
  javascript: "JavaScript",
  image: "Image",
  database: "Database",
  other: "File",
};

export class FileTree {
  constructor({ list, host, onOpen, onChanged, onError }) {
    this.list = list;
    this.host = host;
    this.onOpen = onOpen;
    this.onChanged = onChanged;
    this.onError = onError;
    this.files = [];
  }

  async refresh() {
    this.files = await this.host.call("list_files");
    this.render();
    return this.files;
  }

  /** Open the file at `path`, if the site has it: true if it did. */
  async openPath(path) {
    const file = (this.files.length ? this.files : await this.refresh()).find(
      (entry) => entry.path === path,
    );
    if (file) await this.onOpen(file);
    return Boolean(file);
  }

  render() {
    const folders = new Map(); // folder path -> <ul>
    this.list.replaceChildren();
    folders.set("", this.list);
    for (const file of this.files) {
      const parts = file.path.split("/");
      let parent = "";
      for (const part of parts.slice(0, -1)) {
        const folder = parent ? `${parent}/${part}` : part;
        if (!folders.has(folder)) {
          const item = document.createElement("li");
          item.className = "folder";
          const label = document.createElement("span");
          label.textContent = `${part}/`;
          const children = document.createElement("ul");
          item.append(label, children);
          folders.get(parent).append(item);
          folders.set(folder, children);
        }
        parent = folder;
      }
      folders.get(parent).append(this.fileItem(file, parts.at(-1)));
    }
  }

  fileItem(file, name) {
    const item = document.createElement("li");
    item.className = `file kind-${file.kind}`;
    item.dataset.path = file.path;
    const open = button(name, () => this.onOpen(file));
    open.className = "open";
    open.title = `${file.path} · ${KIND_LABELS[file.kind]} · ${file.size} bytes`;
    const rename = button("✎", () => this.rename(file.path));
    rename.setAttribute("aria-label", `Rename ${file.path}`);
    const remove = button("✕", () => this.remove(file.path));
    remove.setAttribute("aria-label", `Delete ${file.path}`);
    item.append(open, rename, remove);
    return item;
  }

  async create() {
    const path = prompt("Name of the new file (folders with /, e.g. templates/about.html):");
    if (!path) return;
    await this.act(() => this.host.call("write_file", path.trim(), new Uint8Array()));
    const file = this.files.find((f) => f.path === path.trim());
    if (file) this.onOpen(file);
  }

  async rename(path) {
    const target = prompt(`Rename ${path} to:`, path);
    if (!target || target === path) return;
    await this.act(() => this.host.call("rename", path, target.trim()));
  }

  async remove(path) {
    if (!confirm(`Delete ${path}? This cannot be undone.`)) return;
    await this.act(() => this.host.call("delete", path));
  }

  /** Upload [path, File] pairs. */
  async upload(entries) {
    await this.act(async () => {
      for (const [path, file] of entries) {
        await this.host.call("write_file", path, new Uint8Array(await file.arrayBuffer()));
      }
    });
  }

  async act(change) {
    try {
      await change();
    } catch (error) {
      this.onError(error.message);
    }
    await this.refresh();
    await this.onChanged();
  }

  /** Accept files and folders dropped on `zone`. */
  acceptDrops(zone) {
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dropping");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      zone.classList.remove("dropping");
      const entries = [...event.dataTransfer.items]
        .map((item) => item.webkitGetAsEntry?.())
        .filter(Boolean);
      const files = entries.length
        ? (await Promise.all(entries.map((entry) => walk(entry, "")))).flat()
        : [...event.dataTransfer.files].map((file) => [file.name, file]);
      await this.upload(files);
    });
  }
}

/** [path, File] for every file under a dropped FileSystemEntry. */
async function walk(entry, prefix) {
  const path = prefix + entry.name;
  if (entry.isFile) return [[path, await new Promise((ok, fail) => entry.file(ok, fail))]];
  const reader = entry.createReader();
  const children = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map((child) => walk(child, `${path}/`)))).flat();
}

function button(text, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.addEventListener("click", action);
  return element;
}
