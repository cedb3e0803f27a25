// The entry point esbuild bundles into the runtime bundle's shell/http-cache-semantics.js (see
// signaling/bundle/): the rules of HTTP caching the site's service worker follows
// (http-cache.js), from npm, as one ES module.

export { default } from "http-cache-semantics";
