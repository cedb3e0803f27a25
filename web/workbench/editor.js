// The code editor: CodeMirror 6 with the language of the open file; Ctrl-S / Cmd-S saves.

import {
  basicSetup,
  css,
  EditorState,
  EditorView,
  html,
  javascript,
  jinja,
  keymap,
  python,
} from "/bundle/codemirror.js";

const LANGUAGES = {
  python: () => python(),
  template: () => jinja({ base: html() }),
  html: () => html(),
  css: () => css(),
  javascript: () => javascript(),
};

export class Editor {
  constructor(parent, { onSave, onChange }) {
    this.onSave = onSave;
    this.onChange = onChange;
    this.view = new EditorView({ parent, state: this.state("", "other", null) });
  }

  /** `path`: the open file, which names the editor's text area for assistive technology. */
  state(text, kind, path) {
    return EditorState.create({
      doc: text,
      extensions: [
        EditorView.contentAttributes.of({
          "aria-label": path ? `Editing ${path}` : "No file open",
        }),
        keymap.of([
          {
            key: "Mod-s",
            preventDefault: true,
            run: () => {
              this.onSave();
              return true;
            },
          },
        ]),
        basicSetup,
        LANGUAGES[kind]?.() ?? [],
        EditorView.updateListener.of((update) => {
          if (update.docChanged) this.onChange();
        }),
      ],
    });
  }

  open(text, kind, path) {
    this.view.setState(this.state(text, kind, path));
    this.view.focus();
  }

  get text() {
    return this.view.state.doc.toString();
  }
}
