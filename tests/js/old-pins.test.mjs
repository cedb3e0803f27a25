// web/workbench/old-pins.js: finding a package's line in requirements.txt and pinning it anew.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { canonicalName, repin, requirementLine } from "../../web/workbench/old-pins.js";

const TEXT = `# Pinned for the Python of the day
Flask>=3
SQLAlchemy==2.0.23  # the ORM
flask_login[extra]~=0.6 ; python_version >= "3.8"
`;

test("a pin is found whatever way its name is written", () => {
  assert.equal(requirementLine(TEXT, "sqlalchemy"), "SQLAlchemy==2.0.23  # the ORM");
  assert.equal(
    requirementLine(TEXT, "Flask-Login"),
    'flask_login[extra]~=0.6 ; python_version >= "3.8"',
  );
  assert.equal(requirementLine(TEXT, "requests"), null);
  assert.equal(requirementLine(TEXT, "pinned"), null); // a word of the comment is no requirement
  assert.equal(canonicalName("Zope.Interface__x"), "zope-interface-x");
});

test("repinning changes the version only: extras, markers and the comment stay", () => {
  assert.equal(repin(TEXT, "SQLAlchemy", "2.0.52").split("\n")[2], "SQLAlchemy==2.0.52  # the ORM");
  assert.equal(
    repin(TEXT, "flask-login", "0.6.3").split("\n")[3],
    'flask_login[extra]==0.6.3 ; python_version >= "3.8"',
  );
  assert.equal(repin(TEXT, "nothere", "1.0"), TEXT);
  // The name also inside an earlier comment: the requirement's line is the one changed.
  assert.equal(repin("# first\nr\n# last", "r", "9.9"), "# first\nr==9.9\n# last");
  const lines = repin(TEXT, "sqlalchemy", "2.0.52").split("\n");
  assert.deepEqual(
    [lines[0], lines[1], lines[3]],
    TEXT.split("\n")
      .filter((_, i) => i !== 2)
      .slice(0, 3),
  );
});

test("any requirement line keeps its name when repinned", () => {
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9._-]{0,12}$/);
  const specifier = fc.constantFrom("", "==1.0", ">=2,<3", "~=0.6", " == 1.2.3 ");
  fc.assert(
    fc.property(name, specifier, fc.boolean(), (package_, spec, commented) => {
      const line = `${package_}${spec}${commented ? "  # why" : ""}`;
      const text = `# first\n${line}\n# last`;
      const result = repin(text, package_, "9.9");
      const changed = result.split("\n")[1];
      assert.ok(changed.startsWith(`${package_}==9.9`), changed);
      assert.equal(changed.endsWith("# why"), commented);
      assert.equal(requirementLine(result, package_), changed);
    }),
  );
});
