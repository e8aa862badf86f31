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
