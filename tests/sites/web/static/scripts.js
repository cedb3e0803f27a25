// Things a site's own JavaScript does; the results are shown in #results for the test to read.
const results = {};
function report(key, value) {
  results[key] = value;
  document.getElementById("results").textContent = JSON.stringify(results);
}

(async () => {
  const image = new Image();
  image.alt = "Added later";
  image.onload = () => report("image", image.naturalWidth);
  image.src = "dot.png";
  document.body.append(image);

  const script = document.createElement("script");
  script.src = "added.js";
  document.body.append(script);

  const xhr = new XMLHttpRequest();
  xhr.open("GET", "/api/echo?via=xhr");
  xhr.responseType = "json";
  xhr.onload = () => report("xhr", xhr.response.args.via);
  xhr.send();

  const form = new FormData();
  form.append("name", "Ada");
  form.append("upload", new Blob([new Uint8Array(1000)]), "zeros.bin");
  const posted = await (await fetch("/api/echo", { method: "POST", body: form })).json();
  report("formdata", `${posted.form.name}:${posted.files.upload}`);

  await document.fonts.ready;
  report("fontWidth", document.getElementById("fonted").getBoundingClientRect().width);
})();
