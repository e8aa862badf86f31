// Starts the service exactly as `npm run dev` does (scripts/dev.mjs: migrate, seed,
// wrangler dev), on a free port and a fresh --persist-to directory, and stops it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..");
/** The ports this test may use; other suites use others. E2E_PORTS=first-last overrides them. */
const PORTS = process.env.E2E_PORTS
  ? (([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => first + i))(process.env.E2E_PORTS.split("-").map(Number))
  : [8801, 8802, 8803, 8804, 8805, 8806, 8807, 8808, 8809];

function isFree(port) {
  return new Promise((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

async function freePorts(count, ports = PORTS) {
  const found = [];
  for (const port of ports) if (found.length < count && (await isFree(port))) found.push(port);
  if (found.length < count) throw new Error(`need ${count} free ports in ${ports[0]}-${ports.at(-1)}, found ${found.length}`);
  return found;
}

/** The first local API token from .dev.vars (dev.mjs creates it from .dev.vars.example). */
export function devToken() {
  const line = readFileSync(join(ROOT, ".dev.vars"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("SCHEDULER_API_TOKEN="));
  if (!line) throw new Error(".dev.vars has no SCHEDULER_API_TOKEN");
  return line.slice("SCHEDULER_API_TOKEN=".length).split(",")[0].trim();
}

/**
 * Runs `node scripts/dev.mjs --port P --inspector-port Q --persist-to <tmp> [extraArgs]` in its own
 * process group and waits until the dashboard answers. `stop()` ends the whole group
 * (`pid` is the group's, for exit paths that cannot wait for `stop()`). Given `persistTo`,
 * it starts on that state (a restart) and leaves it in place when stopped.
 */
export async function startDevServer({ timeoutMs = 180_000, extraArgs = [], persistTo: given, ports = PORTS } = {}) {
  const [port, inspectorPort] = await freePorts(2, ports);
  const persistTo = given ?? mkdtempSync(join(tmpdir(), "nightly-e2e-"));
  let log = "";
  // wrangler needs Node 22, which npm scripts get from node_modules/.bin; add it for runs by hand too.
  const env = { ...process.env, PATH: `${join(ROOT, "node_modules", ".bin")}${delimiter}${process.env.PATH}` };
  const args = ["scripts/dev.mjs", "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", persistTo, ...extraArgs];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  const exited = new Promise((done) => child.once("exit", done));

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    // wrangler and workerd are in the same group; make sure none outlives the test.
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    if (!given) rmSync(persistTo, { recursive: true, force: true });
  }

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`dev server exited with ${child.exitCode} before answering:\n${log.slice(-4000)}`);
    }
    try {
      if ((await fetch(`${base}/`)).ok && log.includes("dev: ready")) return { base, port, persistTo, pid: child.pid, stop, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`dev server did not answer within ${timeoutMs / 1000} s:\n${log.slice(-4000)}`);
}
