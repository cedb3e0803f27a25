// runtime/visitor/cookie-jar.js: RFC 6265 parsing and matching for the cookies a shell keeps.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import {
  CookieJar,
  defaultPath,
  parseSetCookie,
  pathMatches,
} from "../../runtime/visitor/cookie-jar.js";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const URL = "http://demo.localhost:8000/shop/cart";

test("attributes: path, lifetime, flags, and a Domain that is not the site's is refused", () => {
  const cookie = parseSetCookie(
    "theme=dark; Path=/; Max-Age=60; Secure; SameSite=Strict",
    URL,
    NOW,
  );
  assert.deepEqual(
    { ...cookie, created: undefined },
    {
      name: "theme",
      value: "dark",
      path: "/",
      expires: NOW + 60000,
      secure: true,
      httpOnly: false,
      sameSite: "strict",
      created: undefined,
    },
  );
  assert.equal(parseSetCookie("a=1", URL, NOW).path, "/shop");
  assert.equal(parseSetCookie("a=1; Max-Age=0", URL, NOW).expires, 0);
  assert.equal(parseSetCookie("a=1; Domain=other.example", URL, NOW), null);
  assert.equal(parseSetCookie("a=1; Domain=localhost", URL, NOW).name, "a");
  assert.equal(parseSetCookie("novalue", URL, NOW), null);
  const forever = parseSetCookie("a=1; Max-Age=999999999", URL, NOW);
  assert.equal(forever.expires, NOW + 400 * 24 * 3600 * 1000); // capped, as browsers do
});

test("paths match as RFC 6265 says", () => {
  assert.equal(defaultPath("/"), "/");
  assert.equal(defaultPath("/a/b"), "/a");
  assert.equal(pathMatches("/shop/cart", "/shop"), true);
  assert.equal(pathMatches("/shopping", "/shop"), false);
  assert.equal(pathMatches("/shop/", "/shop/"), true);
});

test("the jar replaces, expires and orders cookies (longest path, then oldest)", () => {
  const jar = new CookieJar();
  jar.store(parseSetCookie("a=1; Path=/", URL, NOW), NOW);
  jar.store(parseSetCookie("b=2; Path=/shop", URL, NOW + 1), NOW + 1);
  jar.store(parseSetCookie("a=3; Path=/", URL, NOW + 2), NOW + 2);
  jar.store(parseSetCookie("c=4; Path=/; Max-Age=1", URL, NOW + 3), NOW + 3);
  const names = (time) => jar.cookiesFor(URL, time).map(({ name, value }) => `${name}=${value}`);
  assert.deepEqual(names(NOW + 4), ["b=2", "a=3", "c=4"]);
  assert.deepEqual(names(NOW + 5000), ["b=2", "a=3"]);
  jar.store(parseSetCookie("b=; Path=/shop; Max-Age=0", URL, NOW + 6000), NOW + 6000);
  assert.deepEqual(names(NOW + 6000), ["a=3"]);
  assert.deepEqual(CookieJar.fromJSON(JSON.stringify(jar)).toJSON(), jar.toJSON());
  assert.deepEqual(CookieJar.fromJSON("not json").toJSON(), []);
});

test("any header parses into a cookie or nothing, never an exception", () => {
  fc.assert(
    fc.property(fc.string(), (header) => {
      const cookie = parseSetCookie(header, URL, NOW);
      assert.ok(cookie === null || (typeof cookie.name === "string" && cookie.name.length > 0));
    }),
  );
});
