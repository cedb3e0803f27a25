// What the server tab keeps per site in this browser (localStorage): the request time limit
// the owner chose, and when the site was made (its age, as the original counted it).

/** The time limit input, kept per site; `host.timeLimitMs` follows it. */
export function keepTimeLimit(host, name, input, defaultMs) {
  const key = `peerserver.timeLimit.${name}`;
  const seconds = Number(localStorage.getItem(key)) || defaultMs / 1000;
  input.value = String(seconds);
  host.timeLimitMs = seconds * 1000;
  input.addEventListener("change", () => {
    const chosen = Math.round(Number(input.value));
    if (!(chosen >= 1 && chosen <= 3600)) {
      input.value = String(host.timeLimitMs / 1000);
      return;
    }
    host.timeLimitMs = chosen * 1000;
    localStorage.setItem(key, String(chosen));
  });
}

/** "1 week, 2 days, 3 hours, 4 minutes", as the original counted a server's age. */
export function formatAge(ms) {
  let minutes = Math.floor(ms / 60000);
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

/** Show the site's age in `element`, once, from when this browser first served it. */
export function startAgeClock(name, element) {
  if (element.dataset.running) return;
  element.dataset.running = "yes";
  const key = `peerserver.created.${name}`;
  const created = Number(localStorage.getItem(key)) || Date.now();
  localStorage.setItem(key, String(created));
  const show = () => {
    element.textContent = `Age: ${formatAge(Date.now() - created)}`;
  };
  show();
  setInterval(show, 30000);
}
