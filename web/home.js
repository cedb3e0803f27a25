// The home page: pick a name and a template, check the name, open the server tab.

import { storedToken } from "./owner-token.js";

const form = document.getElementById("create");
const nameInput = document.getElementById("server-name");
const templateSelect = document.getElementById("template");
const messageBox = document.getElementById("name-message");

async function loadTemplates() {
  const response = await fetch("/api/templates");
  if (!response.ok) return;
  const templates = await response.json();
  templateSelect.replaceChildren(...templates.map(({ id, title }) => new Option(title, id)));
}

function showProblem({ message, suggestion }) {
  messageBox.replaceChildren();
  const text = document.createElement("p");
  text.textContent = message;
  messageBox.append(text);
  if (suggestion) {
    const offer = document.createElement("p");
    const link = document.createElement("a");
    link.href = serverUrl(suggestion);
    link.textContent = suggestion;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      nameInput.value = suggestion;
      form.requestSubmit();
    });
    offer.append("Would you like to try ", link, " instead?");
    messageBox.append(offer);
  }
}

function serverUrl(name) {
  const template = encodeURIComponent(templateSelect.value);
  return `/server/${encodeURIComponent(name)}?template=${template}`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  const query = new URLSearchParams({ name });
  const token = name && storedToken(name);
  if (token) query.set("token", token);
  let status;
  try {
    const response = await fetch(`/api/name-status?${query}`);
    status = await response.json();
  } catch (error) {
    showProblem({ message: `The PeerServer service cannot be reached: ${error.message}` });
    return;
  }
  if (!status.available) {
    showProblem(status);
    nameInput.focus();
    return;
  }
  location.href = serverUrl(name);
});

loadTemplates();
