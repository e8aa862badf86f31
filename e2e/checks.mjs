// The e2e scripts' small TAP-like harness: each check prints "ok - name" or
// "not ok - name" with the error's first lines, and the summary line counts them.

export const results = [];

export async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}\n  ${String(error?.stack ?? error).split("\n").slice(0, 6).join("\n  ")}`);
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Polls `fn` until it returns something truthy (returned), or throws after `timeoutMs`. */
export async function waitFor(what, fn, timeoutMs = 60_000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `api(method, path, body)` against the API of the server `baseOf()` names now (it may be restarted), with a bearer token. */
export function apiCaller(baseOf, token) {
  return async (method, path, body) => {
    const response = await fetch(`${baseOf()}/api/v1/scheduler${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, json: await response.json().catch(() => null) };
  };
}
