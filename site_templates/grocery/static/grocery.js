// The list page: refresh the sections every two seconds, add foods and +1 them.
const sections = document.getElementById("sections");
const notice = document.getElementById("notice");

async function refresh() {
  // Never wipe what someone is typing, or the section they are about to click in.
  const typed = [...sections.querySelectorAll("input")].some((input) => input.value);
  if (typed || (sections.contains(document.activeElement) && document.activeElement !== sections)) {
    return;
  }
  const response = await fetch(sections.dataset.url);
  if (response.ok) sections.innerHTML = await response.text();
}

function tell(text, kind) {
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = false;
  clearTimeout(tell.timer);
  tell.timer = setTimeout(() => { notice.hidden = true; }, 4000);
}

async function add(section, food, details) {
  if (!food.trim()) {
    tell("Error: Cannot create a blank food.", "error");
    return;
  }
  const response = await fetch(sections.dataset.add, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ section, food, details }),
  });
  const result = await response.json();
  if (result.error) tell(`Error: ${result.error}`, "error");
  else tell(`Success: ${result.message}`, "success");
  document.activeElement.blur();
  await refresh();
}

async function addFrom(box, section) {
  const food = box.querySelector(".food");
  const details = box.querySelector(".details");
  const [foodText, detailsText] = [food.value, details.value];
  food.value = "";
  details.value = "";
  await add(section, foodText, detailsText);
}

sections.addEventListener("click", (event) => {
  const section = event.target.closest("[data-section]")?.dataset.section;
  if (event.target.matches(".add-button")) {
    addFrom(event.target.closest(".add"), section);
  } else if (event.target.matches(".plus-one")) {
    add(section, event.target.dataset.food, "");
  }
});

refresh();
setInterval(refresh, 2000);
