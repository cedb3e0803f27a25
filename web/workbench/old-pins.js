// An old pin: a package pinned in requirements.txt that fails to import under the runtime's
// Python (SQLAlchemy 2.0.23 on Python 3.14, say). The owner is shown which package, the error,
// and the nearest release that declares support for this Python (the package service reads the
// index's metadata), with one action that rewrites the pin and restarts Python.

/** PEP 503's normalized name. */
export function canonicalName(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The requirement line of `text` that names `name`, or null. */
export function requirementLine(text, name) {
  const lines = text.split("\n");
  const index = requirementIndex(lines, name);
  return index === -1 ? null : lines[index];
}

function requirementIndex(lines, name) {
  const wanted = canonicalName(name);
  return lines.findIndex((line) => {
    const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line.replace(/#.*/, ""));
    return match && canonicalName(match[1]) === wanted;
  });
}

/**
 * `text` with the requirement on `name` pinned to `version` instead: its extras, its markers
 * and its comment kept, only its version specifier changed.
 */
export function repin(text, name, version) {
  const lines = text.split("\n");
  const index = requirementIndex(lines, name);
  if (index === -1) return text;
  const line = lines[index];
  const [requirement, ...comment] = line.split("#");
  const match = /^(\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?)([^;]*)(;.*)?$/.exec(
    requirement.trimEnd(),
  );
  const [, named, , marker = ""] = match;
  const rest = comment.length ? `  #${comment.join("#")}` : "";
  // The line by its place, not by its text: the same text may come earlier (in a comment).
  lines[index] = `${named.trimEnd()}==${version}${marker ? ` ${marker.trim()}` : ""}${rest}`;
  return lines.join("\n");
}

/**
 * If the site's code failed inside a package that requirements.txt names, show the nearest
 * release for this Python in `box`, with the action that pins it. `askUpgrade(name, version)`
 * resolves to the package service's answer ({version, declares, python}).
 */
export async function offerNewerRelease({ host, box, load, askUpgrade }) {
  box.hidden = true;
  box.replaceChildren();
  if (load.ok || !load.package) return;
  let requirements;
  try {
    requirements = new TextDecoder().decode(await host.call("read_file", "requirements.txt"));
  } catch {
    return; // no requirements.txt: nothing is pinned
  }
  const { name, version } = load.package;
  if (requirementLine(requirements, name) === null) return;
  const answer = await askUpgrade(name, version);
  if (!answer?.version) return;
  const text = document.createElement("p");
  const supports = answer.declares
    ? `declares support for Python ${answer.python}`
    : `is its newest (none declares Python ${answer.python} support)`;
  const error = load.message.replace(/\.$/, "");
  text.textContent =
    `${name} ${version}, pinned in requirements.txt, fails to import under ` +
    `Python ${answer.python}: ${error}. ${name} ${answer.version} is the nearest release ` +
    `that ${supports}.`;
  const action = document.createElement("button");
  action.type = "button";
  action.textContent = `Use ${name} ${answer.version}`;
  action.addEventListener("click", async () => {
    action.disabled = true;
    const current = new TextDecoder().decode(await host.call("read_file", "requirements.txt"));
    box.hidden = true;
    await host.publish(
      "requirements.txt",
      new TextEncoder().encode(repin(current, name, answer.version)),
    );
  });
  box.append(text, action);
  box.hidden = false;
}
