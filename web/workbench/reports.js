// What the server tab tells its owner went wrong: a problem that stops the tab (a name taken, a
// failed start), the site's load result (which app serves, or why none does), and what
// requirements.txt could not install.

import { renderTraceback } from "./traceback.js";

/** The problem banner: `title`, then `lines` (a traceback shown as one), and perhaps another
 * name to try (`suggestion`, as a link to the same template). */
export function showProblem(
  { problem, boot, siteRoot, template },
  title,
  lines = [],
  suggestion = null,
) {
  boot.hidden = true;
  problem.hidden = false;
  problem.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = title;
  problem.append(heading);
  for (const line of lines.filter(Boolean)) {
    if (line.includes("\n")) {
      problem.append(renderTraceback(line, siteRoot));
      continue;
    }
    const block = document.createElement("p");
    block.textContent = line;
    problem.append(block);
  }
  if (suggestion) {
    const offer = document.createElement("p");
    const link = document.createElement("a");
    link.href = `/server/${encodeURIComponent(suggestion)}?template=${encodeURIComponent(template)}`;
    link.textContent = suggestion;
    offer.append("Would you like to try ", link, " instead?");
    problem.append(offer);
  }
}

/** Which app serves the site (in `appLabel`), and in `box` why none does or what will fail. */
export function showLoadResult({ box, appLabel, siteRoot }, load) {
  // Only what really serves the site: after a failed load, the app loaded before, if any.
  let app = load.module ?? null;
  if (load.ok) app ??= "none (static files)";
  else
    app = app ? `${app}, as loaded before (the new code failed)` : "none (the code failed to load)";
  appLabel.textContent = `App: ${app}`;
  if (load.ok && !load.noApp && !load.warning) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.replaceChildren();
  const summary = document.createElement("p");
  if (load.ok) {
    summary.textContent = load.noApp
      ? `${load.noApp} Only the site's files are served.`
      : load.warning;
    box.append(summary);
    return;
  }
  const line = load.lineno ? `, line ${load.lineno}` : "";
  const where = load.filename ? `${load.filename}${line}: ` : "";
  summary.textContent = `The site's code failed to load. ${where}${load.message}`;
  box.append(summary);
  if (load.traceback) box.append(renderTraceback(load.traceback, siteRoot));
}

/** What requirements.txt asked for and the server tab could not install, by name. */
export function showPackageProblems(box, { problems }) {
  box.hidden = problems.length === 0;
  box.replaceChildren();
  if (!problems.length) return;
  const summary = document.createElement("p");
  summary.textContent = "Not installed from requirements.txt:";
  const list = document.createElement("ul");
  for (const { requirement, reason } of problems) {
    const item = document.createElement("li");
    const what = document.createElement("strong");
    what.textContent = requirement;
    item.append(what, `: ${reason}`);
    list.append(item);
  }
  box.append(summary, list);
}
