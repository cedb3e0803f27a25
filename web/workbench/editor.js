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
    this.view = new EditorView({ parent, state: this.state("", "other") });
  }

  state(text, kind) {
    return EditorState.create({
      doc: text,
      extensions: [
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

  open(text, kind) {
    this.view.setState(this.state(text, kind));
    this.view.focus();
  }

  get text() {
    return this.view.state.doc.toString();
  }
}
