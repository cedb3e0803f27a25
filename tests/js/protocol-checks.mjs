// What the tests of a protocol module (runtime/protocol/) check alike: the message types it
// names, and that no file of either end writes one of them as a bare string instead of the
// module's constant.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

export const RUNTIME = new URL("../../runtime/", import.meta.url);

/** The message types `protocol` (a module's exports) names: its upper-case string constants. */
export function messageTypes(protocol) {
  return new Set(
    Object.entries(protocol)
      .filter(([name, value]) => typeof value === "string" && name === name.toUpperCase())
      .map(([, value]) => value),
  );
}

/** Fail if one of `files` (paths under runtime/) writes one of `types` as a bare string in a
 * message (`type: "x"`, `type === "x"`, `case "x"`); `module` is where the constants are. */
export function assertNoBareTypes(types, files, module) {
  const bare = /(?:type: |type [!=]== |case )"([a-z-]+)"/g;
  for (const file of files) {
    const text = readFileSync(new URL(file, RUNTIME), "utf8");
    for (const [, type] of text.matchAll(bare)) {
      assert.ok(!types.has(type), `${file} writes "${type}": use ${module}`);
    }
  }
}
