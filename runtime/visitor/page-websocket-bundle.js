// The entry point esbuild bundles into one classic script (signaling/bundle/): the shell's
// WebSocket, installed in the page or worker that loads it (see page-websocket.js).

import { install } from "./page-websocket.js";

install(globalThis);
