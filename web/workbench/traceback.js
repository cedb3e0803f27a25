// Python tracebacks as a person reads them: monospace, one frame per line, the site's own
// frames marked (and named by their path in the site), the rest of the text left as it is.
// Used wherever Python's errors show in the server tab: the load error, the console, the log.

const FRAME = /^(\s*)File "([^"]+)", line (\d+)(?:, in (.+))?$/;
const START = "Traceback (most recent call last):";

/**
 * The lines of `text`, each {kind, text} with kind "frame" (plus file, line, name, site),
 * "heading" (Traceback ...), "code" (the source line under a frame) or "text". A frame is
 * the site's own when its file is under `siteRoot` (e.g. "/peerserver/NAME/"); its file is
 * then given relative to it.
 */
export function parseTraceback(text, siteRoot = "") {
  const lines = [];
  let afterFrame = false;
  for (const raw of text.split("\n")) {
    const frame = FRAME.exec(raw);
    if (frame) {
      const [, indent, file, line, name = ""] = frame;
      const site = Boolean(siteRoot) && file.startsWith(siteRoot);
      const shown = site ? file.slice(siteRoot.length) : file;
      lines.push({
        kind: "frame",
        text: `${indent}File "${shown}", line ${line}${name ? `, in ${name}` : ""}`,
        file: shown,
        line: Number(line),
        name,
        site,
      });
      afterFrame = true;
      continue;
    }
    const kind =
      raw.trim() === START ||
      raw.startsWith("During handling") ||
      raw.startsWith("The above exception")
        ? "heading"
        : afterFrame && /^\s{4}/.test(raw)
          ? "code"
          : "text";
    if (kind !== "code") afterFrame = false;
    lines.push({ kind, text: raw });
  }
  return lines;
}

/** Whether `text` holds a Python traceback. */
export function hasTraceback(text) {
  return text.includes(START);
}

/** A <pre class="traceback"> showing `text`, each line a span of its kind. */
export function renderTraceback(text, siteRoot = "") {
  const block = document.createElement("pre");
  block.className = "traceback";
  const lines = parseTraceback(text.replace(/\n$/, ""), siteRoot);
  block.append(
    ...lines.map(({ kind, text: line, site }, index) => {
      const span = document.createElement("span");
      span.className = `tb-${kind}${site ? " tb-site" : ""}`;
      span.textContent = line + (index < lines.length - 1 ? "\n" : "");
      if (site) span.title = "The site's own code";
      return span;
    }),
  );
  return block;
}
