// The entry point esbuild bundles into the runtime bundle's qrcode.js (see
// signaling/bundle/__init__.py): QR codes of the site's address, for a phone to open it.

export { default as qrcode } from "qrcode-generator";
