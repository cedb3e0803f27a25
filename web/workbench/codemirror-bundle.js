// The entry point esbuild bundles into the runtime bundle's codemirror.js (see
// signaling/bundle/__init__.py): CodeMirror 6 and the languages a Flask site is written in.

export { basicSetup, EditorView } from "codemirror";
export { EditorState } from "@codemirror/state";
export { keymap } from "@codemirror/view";
export { python } from "@codemirror/lang-python";
export { html } from "@codemirror/lang-html";
export { css } from "@codemirror/lang-css";
export { javascript } from "@codemirror/lang-javascript";
export { jinja } from "@codemirror/lang-jinja";
