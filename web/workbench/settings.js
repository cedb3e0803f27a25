// What the server tab keeps per site in this browser (localStorage): the request time limit
// the owner chose, and when the site was made (its age, as the original counted it). Both
// travel with the site to its standbys (`siteSettings`).

const timeLimitKey = (name) => `peerserver.timeLimit.${name}`;
const createdKey = (name) => `peerserver.created.${name}`;

/** The time limit input, kept per site; `host.timeLimitMs` follows it (and its standbys'). */
export function keepTimeLimit(host, name, input, defaultMs) {
  const seconds = Number(localStorage.getItem(timeLimitKey(name))) || defaultMs / 1000;
  input.value = String(seconds);
  host.timeLimitMs = seconds * 1000;
  input.addEventListener("change", () => {
    const chosen = Math.round(Number(input.value));
    if (!(chosen >= 1 && chosen <= 3600)) {
      input.value = String(host.timeLimitMs / 1000);
      return;
    }
    host.timeLimitMs = chosen * 1000;
    localStorage.setItem(timeLimitKey(name), String(chosen));
    host.settingsChanged();
  });
}

/**
 * The settings of `name` that travel with the site ({timeLimitMs, created}), as SiteHost reads
 * and keeps them: `host()` is the SiteHost, `input` the time limit's.
 */
export function siteSettings(name, host, input) {
  return {
    read: () => ({ timeLimitMs: host().timeLimitMs, created: createdAt(name) }),
    keep: ({ timeLimitMs, created }) => {
      localStorage.setItem(timeLimitKey(name), String(timeLimitMs / 1000));
      localStorage.setItem(createdKey(name), String(created));
      host().timeLimitMs = timeLimitMs;
      input.value = String(timeLimitMs / 1000);
    },
  };
}

/** When `name` was first served (from this browser, or the one it was copied from). */
function createdAt(name) {
  const created = Number(localStorage.getItem(createdKey(name))) || Date.now();
  localStorage.setItem(createdKey(name), String(created));
  return created;
}

/** "1 week, 2 days, 3 hours, 4 minutes", as the original counted a server's age. An age below
 * zero (the site's birth recorded by a clock a moment ahead of this one) is "0 minutes". */
export function formatAge(ms) {
  let minutes = Math.floor(Math.max(0, ms) / 60000);
  const parts = [];
  for (const [unit, size] of [
    ["week", 10080],
    ["day", 1440],
    ["hour", 60],
    ["minute", 1],
  ]) {
    const count = Math.floor(minutes / size);
    minutes -= count * size;
    if (count) parts.push(`${count} ${unit}${count > 1 ? "s" : ""}`);
  }
  return parts.join(", ") || "0 minutes";
}

/** Show the site's age in `element`, from when it was first served. */
export function startAgeClock(name, element) {
  if (element.dataset.running) return;
  element.dataset.running = "yes";
  const show = () => {
    element.textContent = `Age: ${formatAge(Date.now() - createdAt(name))}`;
  };
  show();
  setInterval(show, 30000);
}
