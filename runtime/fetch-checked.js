// fetch() that fails on an HTTP error status, with the URL and status in the message.

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response;
}

export async function fetchBytes(url) {
  return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
}

export async function fetchJson(url) {
  return (await fetchOk(url)).json();
}
