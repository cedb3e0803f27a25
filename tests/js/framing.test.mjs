// runtime/framing.js: a page that forbids all framing is still shown in the site's own shell.

import assert from "node:assert/strict";
import { test } from "node:test";

import { framedByShell } from "../../runtime/visitor/framing.js";

test("framing is allowed to the site's own origin only where the site forbade it", () => {
  assert.deepEqual(
    framedByShell([
      ["X-Frame-Options", "DENY"],
      ["Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"],
      ["Content-Type", "text/html"],
    ]),
    [
      ["X-Frame-Options", "SAMEORIGIN"],
      ["Content-Security-Policy", "default-src 'self'; frame-ancestors 'self'"],
      ["Content-Type", "text/html"],
    ],
  );
  const allowing = [
    ["x-frame-options", "SAMEORIGIN"],
    ["content-security-policy", "frame-ancestors https://a.example"],
  ];
  assert.deepEqual(framedByShell(allowing), allowing);
});
