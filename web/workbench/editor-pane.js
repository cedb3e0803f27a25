// The editor pane: one file of the site open at a time (text in CodeMirror, an image or a
// binary shown as what it is), and saving it, which publishes: the app is reloaded and the next
// request sees the new code, while a syntax or import error keeps the previous version live.

const encoder = new TextEncoder();

export class EditorPane {
  /** `elements`: editor, preview, openFile, saveState, save (the button). */
  constructor({ host, editor, elements, onSaved }) {
    Object.assign(this, { host, editor, elements, onSaved });
    this.current = null; // the file open, {path, kind}
    this.dirty = false;
  }

  changed() {
    this.dirty = true;
    this.elements.saveState.textContent = "Unsaved changes";
  }

  async open(file) {
    if (this.dirty && !confirm(`Discard your unsaved changes to ${this.current.path}?`)) return;
    const bytes = await this.host.call("read_file", file.path);
    const { editor, preview, openFile, saveState, save } = this.elements;
    this.current = file;
    this.dirty = false;
    openFile.textContent = file.path;
    saveState.textContent = "";
    for (const item of document.querySelectorAll("#file-tree li.file")) {
      item.classList.toggle("selected", item.dataset.path === file.path);
    }
    const text = file.kind === "image" ? null : decodeText(bytes);
    editor.hidden = text === null;
    preview.hidden = text !== null;
    save.disabled = text === null;
    if (text !== null) {
      this.editor.open(text, file.kind, file.path);
      return;
    }
    preview.replaceChildren();
    if (file.kind === "image") {
      const image = document.createElement("img");
      image.alt = file.path;
      image.src = URL.createObjectURL(new Blob([bytes], { type: imageType(file.path) }));
      preview.append(image);
    } else {
      preview.append(`${file.path} is a binary file of ${bytes.length} bytes.`);
    }
  }

  async save() {
    const { saveState, save } = this.elements;
    if (!this.current || save.disabled) return;
    saveState.textContent = "Saving…";
    try {
      const load = await this.host.publish(this.current.path, encoder.encode(this.editor.text));
      this.dirty = false;
      saveState.textContent = load.ok
        ? "Saved: the site is live with this version."
        : "Saved, but the site's code has an error: the previous version stays live.";
    } catch (error) {
      saveState.textContent = error.message;
    }
    await this.onSaved();
  }

  /** Nothing open (the site was replaced). */
  clear() {
    this.current = null;
    this.dirty = false;
    this.elements.openFile.textContent = "No file open";
    this.editor.open("", "other", null);
  }
}

function decodeText(bytes) {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return text.includes("\0") ? null : text;
  } catch {
    return null;
  }
}

function imageType(path) {
  const suffix = path.split(".").pop().toLowerCase();
  return (
    { svg: "image/svg+xml", jpg: "image/jpeg", ico: "image/x-icon" }[suffix] || `image/${suffix}`
  );
}
