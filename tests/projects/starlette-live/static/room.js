// The room's page: a chat socket once the visitor gives a name, and a clock socket.
const url = (path) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;

const clock = new WebSocket(url("/clock"));
clock.onmessage = (event) => {
  document.getElementById("clock").textContent = event.data;
};

let room = null;
document.getElementById("join").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = document.getElementById("name").value;
  room = new WebSocket(url(`/chat?name=${encodeURIComponent(name)}`));
  room.onopen = () => {
    document.getElementById("state").textContent = `In the room as ${name}`;
    document.getElementById("join").hidden = true;
    document.getElementById("say").hidden = false;
  };
  room.onmessage = (message) => {
    const item = document.createElement("li");
    item.textContent = message.data;
    document.getElementById("lines").append(item);
  };
  room.onclose = (closed) => {
    document.getElementById("state").textContent = `Left the room (${closed.code})`;
  };
});

document.getElementById("say").addEventListener("submit", (event) => {
  event.preventDefault();
  const line = document.getElementById("line");
  room.send(line.value);
  line.value = "";
});
