// A worker of the page's with a socket of its own: it echoes one message and says what came back.
const socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}/echo`);
socket.onopen = () => socket.send("from the worker");
socket.onmessage = (event) => {
  postMessage(`worker heard: ${event.data}`);
  socket.close();
};
socket.onerror = () => postMessage("worker: the socket failed");
