// The shell's request worker (a dedicated worker the shell page starts): it answers the site's
// requests that come from its service worker over the connection's data channels, which the
// page hands it (runtime/protocol/request-worker.js), so that no request waits on the page's
// main thread, which renders the site's pages and runs their scripts.

import {
  CONNECT,
  DRAIN,
  FETCH,
  fromWorker,
  JAR,
  PORT,
  questions,
  REPLY,
  Requests,
  RESET,
  START,
  STATE,
} from "../protocol/request-worker.js";
import { CookieJar } from "./cookie-jar.js";
import { RequestRelay } from "./request-relay.js";
import { cookieHeaderFor } from "./site-cookies.js";
import { SiteRequests } from "./site-requests.js";
import { requestLanes } from "./worker-port.js";

const asked = new Requests(); // this worker's questions to the page
let requests = null; // SiteRequests, from "start"
let relay = null;
let jar = null; // the visitor's cookie jar, as the page last sent it
let connection = null; // the page's number for the connection the channels are of
// Requests that came on the service worker's ports (for tests); the page counts those that came
// the old way, and hands them on.
const relayed = { port: 0 };
globalThis.peerServerRelayed = relayed;

function ask(question) {
  return asked.ask((id) => self.postMessage(fromWorker.ask(id, question)));
}

function start({ scheme, host, userAgent, jar: json }) {
  jar = CookieJar.fromJSON(json);
  requests = new SiteRequests({
    scheme,
    host,
    // What the connection's control channel said, for the page to act on.
    moved: () => self.postMessage(fromWorker.moved(connection)),
    lost: (ids) => self.postMessage(fromWorker.lost(connection, ids)),
    closed: () => self.postMessage(fromWorker.closed(connection)),
  });
  globalThis.peerServerRequests = requests; // for tests and benchmarks to look at the pool
  relay = new RequestRelay({
    client: requests,
    cookies: {
      header: (url, scriptCookies) => cookieHeaderFor(url, scriptCookies, jar),
      store: (values, url) => (values.length ? ask(questions.cookies(values, url)) : null),
    },
    userAgent,
  });
}

function connect({ id, connection: number, control, first, keepsCookies }) {
  connection = number;
  const makeChannel = (protocol) => ask(questions.channel(number, protocol));
  requests.connect({ control, first, makeChannel, keepsCookies }).then(
    () => self.postMessage(fromWorker.result(id, {})),
    (error) => self.postMessage(fromWorker.result(id, { error: error.message })),
  );
}

self.addEventListener("message", ({ data, ports }) => {
  switch (data?.type) {
    case START:
      start(data);
      break;
    case CONNECT:
      connect(data);
      break;
    case STATE:
      requests.setState(data.state, data.reason);
      break;
    case RESET:
      connection = null;
      requests.reset();
      break;
    case DRAIN:
      requests.drain(data.timeoutMs).then(() => self.postMessage(fromWorker.result(data.id, {})));
      break;
    case PORT:
      requestLanes(ports[0], (request, lane) => relay.relay(request, lane), relayed);
      break;
    case FETCH:
      relay.relay(data.request, ports[0]);
      break;
    case JAR:
      jar = CookieJar.fromJSON(data.json);
      break;
    case REPLY:
      asked.settle(data);
      break;
  }
});
