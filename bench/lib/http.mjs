// The runner's side of the bench routes (/__bench/*) and of the API.

export const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
export const sleepUntil = (at) => sleep(at - Date.now());

export function client(base) {
  async function call(method, path, body) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }
  return {
    base,
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
  };
}

/** Runs `fn` over `items`, `limit` at a time. */
export async function pool(items, limit, fn) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Calls `probe` every `intervalMs` until it returns a truthy value, or throws after `timeoutMs`. */
export async function pollUntil(probe, { intervalMs, timeoutMs, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const started = Date.now();
    const result = await probe();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs - (Date.now() - started));
  }
}
