// "Change app": FLASK_APP picks the app, as it does for `flask run`. It is changed where it is
// set (.env wins over .flaskenv), else written to .flaskenv.

const SETTING = /^\s*(export\s+)?FLASK_APP\s*=/;

/** `files` with FLASK_APP set to `choice` (none: found by itself): {path, text} to write. */
export function withFlaskApp(files, choice) {
  const [path, lines] = files[".env"].some((line) => SETTING.test(line))
    ? [".env", files[".env"]]
    : [".flaskenv", files[".flaskenv"]];
  const kept = lines.filter((line) => line.trim() && !SETTING.test(line));
  if (choice.trim()) kept.push(`FLASK_APP=${choice.trim()}`);
  return { path, text: `${kept.join("\n")}\n` };
}

/** Ask the owner which app to serve, and publish the setting. */
export async function chooseApp(host) {
  const choice = prompt(
    "The app to serve, as FLASK_APP takes it (e.g. app.py, flaskr, " +
      "flaskr:create_app()). Empty: find it by itself.",
  );
  if (choice === null) return;
  const lines = async (path) => {
    try {
      return new TextDecoder().decode(await host.call("read_file", path)).split("\n");
    } catch {
      return []; // no such file yet
    }
  };
  const { path, text } = withFlaskApp(
    { ".env": await lines(".env"), ".flaskenv": await lines(".flaskenv") },
    choice,
  );
  await host.publish(path, new TextEncoder().encode(text));
}
