// runtime/visitor/http-cache.js: the site's HTTP cache in the visitor's service worker, with the
// real http-cache-semantics and the real store over a Cache (CacheStorage's interface, kept in
// memory here: Node has none). The site is a function of the test's that counts what it is
// asked, as the server tab would see it.

import assert from "node:assert/strict";
import { test } from "node:test";
import CachePolicy from "http-cache-semantics";

import { cacheStorageStore, HttpCache } from "../../runtime/visitor/http-cache.js";

/** CacheStorage's Cache, in memory. */
class MemoryCache {
  constructor() {
    this.entries = new Map();
  }
  async match(url) {
    return this.entries.get(String(url))?.clone();
  }
  async put(url, response) {
    this.entries.set(String(url), new Response(await response.arrayBuffer(), response));
  }
  async delete(url) {
    return this.entries.delete(String(url?.url ?? url));
  }
  async keys() {
    return [...this.entries.keys()].map((url) => new Request(url));
  }
}

/** A site: `answer(request, extraHeaders)` makes its responses; it records what it was sent. */
function site(answer) {
  const seen = [];
  const forward = (request) => async (extra) => {
    const headers = Object.fromEntries(
      [...request.headers, ...extra].map(([k, v]) => [k.toLowerCase(), v]),
    );
    seen.push({ url: request.url, method: request.method, headers });
    return answer({ ...request, headers });
  };
  return { seen, forward };
}

function setup({ maxBytes, maxEntryBytes } = {}) {
  const cache = new MemoryCache();
  const pending = [];
  const http = new HttpCache({
    CachePolicy,
    store: cacheStorageStore(async () => cache),
    waitUntil: (done) => pending.push(done),
    ...(maxBytes ? { maxBytes } : {}),
    ...(maxEntryBytes ? { maxEntryBytes } : {}),
  });
  const settled = async () => {
    while (pending.length) await pending.shift();
  };
  return { cache, http, settled };
}

const URL_ = "http://shop.localhost:8000/static/logo.png";

function get(url = URL_, cache = "default", headers = []) {
  return { url, method: "GET", headers, cache };
}

async function fetchText(http, request, forward, settled) {
  const response = await http.fetch(request, forward(request));
  const text = await response.text();
  await settled();
  return { response, text, how: response.headers.get("x-peerserver-cache") };
}

function body(text, headers) {
  return new Response(text, {
    status: 200,
    headers: { "content-length": String(new TextEncoder().encode(text).length), ...headers },
  });
}

test("an ETag with no-cache (Flask's static files): revalidated, answered 304, body kept", async () => {
  const { http, settled } = setup();
  let etag = '"v1"';
  const { seen, forward } = site(({ headers }) =>
    headers["if-none-match"] === etag
      ? new Response(null, { status: 304, headers: { etag } })
      : body(`logo ${etag}`, { etag, "cache-control": "no-cache" }),
  );
  const first = await fetchText(http, get(), forward, settled);
  assert.deepEqual([first.text, first.how], ['logo "v1"', "miss"]);
  const second = await fetchText(http, get(), forward, settled);
  assert.deepEqual([second.text, second.how], ['logo "v1"', "revalidated"]);
  assert.equal(second.response.status, 200);
  assert.equal(seen[1].headers["if-none-match"], '"v1"');

  etag = '"v2"'; // the file changed: fetched anew, and kept in its place
  const third = await fetchText(http, get(), forward, settled);
  assert.deepEqual([third.text, third.how], ['logo "v2"', "miss"]);
  const fourth = await fetchText(http, get(), forward, settled);
  assert.deepEqual([fourth.text, fourth.how], ['logo "v2"', "revalidated"]);
  assert.equal(seen.length, 4);
});

test("a fresh response is answered with no trip to the site; the page's cache modes obeyed", async () => {
  const { http, settled } = setup();
  const { seen, forward } = site(({ headers }) =>
    headers["if-none-match"] === '"a"'
      ? new Response(null, { status: 304, headers: { etag: '"a"' } })
      : body("fresh", { "cache-control": "max-age=600", etag: '"a"' }),
  );
  await fetchText(http, get(), forward, settled);
  const hit = await fetchText(http, get(), forward, settled);
  assert.deepEqual([hit.text, hit.how, seen.length], ["fresh", "hit", 1]);
  assert.match(hit.response.headers.get("age"), /^\d+$/);

  await fetchText(http, get(URL_, "no-cache"), forward, settled); // revalidates, even fresh
  assert.equal(seen.at(-1).headers["if-none-match"], '"a"');
  await fetchText(http, get(URL_, "reload"), forward, settled); // the site, unconditionally
  assert.equal(seen.at(-1).headers["if-none-match"], undefined);
  const storeless = await fetchText(http, get(URL_, "no-store"), forward, settled);
  assert.deepEqual([storeless.how, seen.length], [null, 4]);
  const forced = await fetchText(http, get(URL_, "force-cache"), forward, settled);
  assert.deepEqual([forced.how, seen.length], ["hit", 4]);
  const none = await http.fetch(get(`${URL_}?other`, "only-if-cached"), forward(get()));
  assert.equal(none.status, 504);
});

test("no-store is never stored, and neither is what has no length or is too large", async () => {
  const { cache, http, settled } = setup({ maxEntryBytes: 10 });
  const { forward } = site(({ url }) => {
    if (url.endsWith("/secret")) return body("secret", { "cache-control": "no-store" });
    if (url.endsWith("/stream"))
      return new Response("streamed", { headers: { "cache-control": "max-age=60" } });
    return body("more than ten bytes", { "cache-control": "max-age=60" });
  });
  for (const path of ["/secret", "/stream", "/large"]) {
    const { how } = await fetchText(
      http,
      get(`http://shop.localhost:8000${path}`),
      forward,
      settled,
    );
    assert.equal(how, "miss");
  }
  assert.equal(cache.entries.size, 0);
});

test("a response that varies on Cookie is always asked of the site", async () => {
  const { http, settled } = setup();
  const { seen, forward } = site(() =>
    body("hello, you", { "cache-control": "max-age=600", vary: "Cookie", etag: '"x"' }),
  );
  await fetchText(http, get(), forward, settled);
  await fetchText(http, get(), forward, settled);
  assert.equal(seen.length, 2);
  assert.equal(seen[1].headers["if-none-match"], '"x"');
});

test("heuristic freshness from Last-Modified, as browsers have it", async () => {
  const { http, settled } = setup();
  const lastWeek = new Date(Date.now() - 7 * 86400 * 1000).toUTCString();
  const { seen, forward } = site(() =>
    body("old file", { "last-modified": lastWeek, date: new Date().toUTCString() }),
  );
  await fetchText(http, get(), forward, settled);
  const again = await fetchText(http, get(), forward, settled);
  assert.deepEqual([again.how, seen.length], ["hit", 1]);
});

test("a POST the site accepts makes what it changed stale; the page's own conditions pass", async () => {
  const { cache, http, settled } = setup();
  const list = "http://shop.localhost:8000/items";
  const { seen, forward } = site(({ method, headers }) => {
    if (method === "POST")
      return new Response(null, { status: 303, headers: { location: "/items" } });
    if (headers["if-none-match"]) return new Response(null, { status: 304 });
    return body("items", { "cache-control": "max-age=600" });
  });
  await fetchText(http, get(list), forward, settled);
  assert.ok(cache.entries.has(list));
  const post = { url: `${list}/new`, method: "POST", headers: [], cache: "default" };
  await http.fetch(post, forward(post));
  assert.ok(!cache.entries.has(list));
  const conditional = get(list, "default", [["If-None-Match", '"mine"']]);
  const own = await http.fetch(conditional, forward(conditional));
  assert.equal(own.status, 304); // the page asked conditionally itself: the site's answer
  assert.equal(seen.length, 3);
});

test("the least recently used go past the bound; Clear-Site-Data empties it", async () => {
  const { cache, http, settled } = setup({ maxBytes: 25 });
  const { forward } = site(({ url }) =>
    url.endsWith("/clear")
      ? body("done", { "clear-site-data": '"cache"' })
      : body("0123456789", { "cache-control": "max-age=600" }),
  );
  const at = (n) => `http://shop.localhost:8000/${n}`;
  await fetchText(http, get(at(1)), forward, settled);
  await fetchText(http, get(at(2)), forward, settled);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await fetchText(http, get(at(1)), forward, settled); // used again: 2 is the least recent
  await new Promise((resolve) => setTimeout(resolve, 5));
  await fetchText(http, get(at(3)), forward, settled);
  assert.deepEqual([...cache.entries.keys()].sort(), [at(1), at(3)]);
  await fetchText(http, get(at("clear")), forward, settled);
  assert.equal(cache.entries.size, 0);
});
