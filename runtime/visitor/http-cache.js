// A site's HTTP cache in the visitor's browser, as a browser keeps one for any web server
// (RFC 9111): the service worker answers the site's pages from it while a response is fresh,
// revalidates a stale one with a conditional request (If-None-Match, If-Modified-Since) that
// the site may answer 304 with no body, and stores what the rules let it store. The rules
// themselves are http-cache-semantics' (npm), a private cache's: `CachePolicy` is given.
//
// The page's own cache mode is obeyed: "no-store" neither reads nor writes, "reload" writes
// only, "no-cache" always revalidates, "force-cache" and "only-if-cached" take what is stored.
// Bounded: a response over `maxEntryBytes` (or of unknown length: a stream, say) is not kept,
// and the least recently used go past `maxBytes`. It lives in the site's origin, so clearing
// the site's data in the browser clears it too, as does a `Clear-Site-Data: "cache"` answer.
//
// The server tab keeps a visitor's HttpOnly cookies, which the service worker never sees: a
// response that varies on Cookie is always revalidated, so that the site decides.

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const CONDITIONAL = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since"];
const VALIDATORS = ["if-none-match", "if-modified-since"];

export const MAX_ENTRY_BYTES = 8 * 1024 * 1024;
export const MAX_BYTES = 64 * 1024 * 1024;

export class HttpCache {
  /**
   * `store` keeps entries (see cacheStorageStore); `CachePolicy` is http-cache-semantics'.
   * `waitUntil(promise)` keeps the service worker alive while an entry is being written.
   */
  constructor({
    CachePolicy,
    store,
    waitUntil = () => {},
    maxEntryBytes = MAX_ENTRY_BYTES,
    maxBytes = MAX_BYTES,
  }) {
    Object.assign(this, { CachePolicy, store, waitUntil, maxEntryBytes, maxBytes });
  }

  /**
   * Answer `request` ({url, method, headers: [[name, value]], cache}) from the cache or with
   * `forward(extraHeaders)`, which sends it to the site with the headers added; resolves to
   * a Response, with X-PeerServer-Cache saying "hit", "revalidated", "miss" or nothing.
   */
  async fetch(request, forward) {
    const { url, method, cache: mode = "default" } = request;
    const asked = policyRequest(request);
    if (
      method !== "GET" ||
      mode === "no-store" ||
      CONDITIONAL.some((name) => name in asked.headers)
    ) {
      // Not ours to answer: the page's own conditional requests get the site's own answers.
      const response = await forward([]);
      await this.afterUncached(request, response);
      return response;
    }
    const stored = mode === "reload" ? null : await this.store.get(url);
    if (!stored) {
      if (mode === "only-if-cached") return new Response(null, { status: 504 });
      return this.keep(asked, await forward([]));
    }
    const policy = this.CachePolicy.fromObject(stored.policy);
    if (mode === "force-cache" || mode === "only-if-cached") return this.hit(policy, stored, "hit");
    const revalidate = mode === "no-cache" || variesOnCookie(policy);
    const evaluation = policy.evaluateRequest(
      revalidate ? { ...asked, headers: { ...asked.headers, "cache-control": "no-cache" } } : asked,
    );
    if (evaluation.response && !evaluation.revalidation) return this.hit(policy, stored, "hit");
    const conditions = VALIDATORS.filter((name) => name in evaluation.revalidation.headers).map(
      (name) => [name, evaluation.revalidation.headers[name]],
    );
    const answer = forward(conditions).then((response) =>
      this.revalidated(asked, policy, stored, conditions, response),
    );
    if (evaluation.response) {
      // stale-while-revalidate: the stored response now, the revalidation behind it.
      this.waitUntil(answer.then((response) => response.body?.cancel()));
      return this.hit(policy, stored, "hit");
    }
    return answer;
  }

  /** What the site answered a conditional request for `stored`. */
  async revalidated(asked, policy, stored, conditions, response) {
    const sent = { ...asked, headers: { ...asked.headers, ...Object.fromEntries(conditions) } };
    const { policy: updated, modified } = policy.revalidatedPolicy(sent, policyResponse(response));
    if (modified) return this.keep(asked, response);
    await response.body?.cancel();
    if (updated.storable())
      this.waitUntil(this.store.put(asked.url, updated.toObject(), stored.body));
    return this.hit(updated, stored, "revalidated");
  }

  /** The stored response, with the headers its policy gives it now (Age, among them). */
  hit(policy, stored, how) {
    const headers = new Headers(policy.responseHeaders());
    headers.set("X-PeerServer-Cache", how);
    this.waitUntil(this.store.touch(stored.url));
    return new Response(stored.body, { status: policy.status(), headers });
  }

  /** A response from the site: stored if the rules and bounds let it be, passed on either way. */
  async keep(asked, response) {
    if (await this.clearIfAsked(response)) return marked(response, "miss", response.body);
    const policy = new this.CachePolicy(asked, policyResponse(response), { shared: false });
    const length = Number(response.headers.get("content-length"));
    const fits =
      response.status === 200 &&
      response.body &&
      response.headers.has("content-length") &&
      Number.isSafeInteger(length) &&
      length <= this.maxEntryBytes;
    if (!policy.storable() || !fits) return marked(response, "miss", response.body);
    const [toPage, toCache] = response.body.tee();
    this.waitUntil(
      new Response(toCache).arrayBuffer().then(
        async (buffer) => {
          if (buffer.byteLength !== length) return; // cut short: not a response to keep
          await this.store.put(asked.url, policy.toObject(), new Uint8Array(buffer));
          await this.store.evict(this.maxBytes);
        },
        () => {}, // the response failed: nothing to keep
      ),
    );
    return marked(response, "miss", toPage);
  }

  /** After an unsafe request the site accepted, what it may have changed is stale (RFC 9111
   * 4.4); `Clear-Site-Data` is obeyed. */
  async afterUncached(request, response) {
    await this.clearIfAsked(response);
    if (SAFE_METHODS.has(request.method) || response.status >= 400) return;
    const urls = [request.url];
    for (const name of ["location", "content-location"]) {
      const value = response.headers.get(name);
      if (value) {
        const target = new URL(value, request.url);
        if (target.origin === new URL(request.url).origin) urls.push(target.href);
      }
    }
    await Promise.all(urls.map((url) => this.store.delete(url)));
  }

  /** Whether `response` asked for the cache to be cleared (and so it was). */
  async clearIfAsked(response) {
    const directive = response.headers.get("clear-site-data") ?? "";
    if (!/"(cache|\*)"/.test(directive)) return false;
    await this.store.clear();
    return true;
  }
}

/** A request as http-cache-semantics takes it: header names in lower case. */
function policyRequest({ url, method, headers }) {
  const lower = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    lower[key] = key in lower ? `${lower[key]}, ${value}` : value;
  }
  return { url, method, headers: lower };
}

function policyResponse(response) {
  return { status: response.status, headers: Object.fromEntries(response.headers) };
}

function variesOnCookie(policy) {
  const vary = policy.responseHeaders().vary ?? "";
  return /(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary);
}

function marked(response, how, body) {
  const headers = new Headers(response.headers);
  headers.set("X-PeerServer-Cache", how);
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Entries in a CacheStorage cache (`cache` is an opened Cache): each the body, with its policy
 * and size in headers of their own; the recency of use is kept in memory, and after a restart
 * of the service worker the order they were stored in stands for it.
 */
export function cacheStorageStore(openCache) {
  const POLICY = "x-peerserver-policy";
  const STORED = "x-peerserver-stored";
  let index = null; // url -> {bytes, used}

  async function entries() {
    if (index) return index;
    const cache = await openCache();
    index = new Map();
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      const bytes = Number(response?.headers.get("content-length") ?? 0);
      index.set(request.url, { bytes, used: Number(response?.headers.get(STORED) ?? 0) });
    }
    return index;
  }

  return {
    async get(url) {
      const response = await (await openCache()).match(url);
      if (!response) return null;
      let policy;
      try {
        policy = JSON.parse(response.headers.get(POLICY));
      } catch {
        return null;
      }
      return { url, policy, body: new Uint8Array(await response.arrayBuffer()) };
    },
    async put(url, policy, body) {
      const now = Date.now();
      const headers = {
        [POLICY]: JSON.stringify(policy),
        [STORED]: String(now),
        "content-length": String(body.length),
      };
      await (await openCache()).put(url, new Response(body, { headers }));
      (await entries()).set(url, { bytes: body.length, used: now });
    },
    async touch(url) {
      const entry = (await entries()).get(url);
      if (entry) entry.used = Date.now();
    },
    async delete(url) {
      (await entries()).delete(url);
      await (await openCache()).delete(url);
    },
    async clear() {
      const cache = await openCache();
      await Promise.all((await cache.keys()).map((request) => cache.delete(request)));
      index = new Map();
    },
    async evict(maxBytes) {
      const all = await entries();
      let total = [...all.values()].reduce((sum, entry) => sum + entry.bytes, 0);
      const oldestFirst = [...all].sort(([, a], [, b]) => a.used - b.used);
      for (const [url, entry] of oldestFirst) {
        if (total <= maxBytes) break;
        total -= entry.bytes;
        await this.delete(url);
      }
    },
  };
}
