// Python values handed to JavaScript, as plain values (dicts as objects) with their proxies
// freed: what every call of server_py from the worker returns.

/** `proxy` as a plain value (null for Python's None); the proxy is destroyed. */
export function toPlain(proxy) {
  if (proxy === undefined || proxy === null) return null;
  const value = proxy.toJs({ dict_converter: Object.fromEntries });
  proxy.destroy();
  return value;
}
