// Starting and stopping the service for the benchmark, the way `npm run dev`
// does it (D1 migrations applied locally, then `wrangler dev`), from a frozen
// copy of the tree so an edit made elsewhere during the run cannot make
// wrangler rebuild and restart the Worker mid-measurement.
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const run = promisify(execFile);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" };

/**
 * Copies what the Worker is built from into a fresh temp directory (state goes
 * there too): the service from `source` (normally this repository; another
 * working tree to measure a candidate change), the bench files from `repo`.
 */
export function snapshot(repo, source = repo) {
  // tmpfs when there is a roomy one: every object is a SQLite file, and the
  // figures should measure the runtime, not this machine's disk flushes.
  const parent = process.env.BENCH_TMPDIR ?? (freeBytes("/dev/shm") > 2 ** 30 ? "/dev/shm" : tmpdir());
  const root = mkdtempSync(join(parent, "nightly-bench-"));
  const app = join(root, "app");
  mkdirSync(join(app, "bench"), { recursive: true });
  for (const item of ["src", "migrations", "platform-migrations", "package.json", "tsconfig.json", "wrangler.toml"]) {
    if (item === "platform-migrations" && !existsSync(join(source, item))) continue; // a BENCH_SOURCE from before the split
    cpSync(join(source, item), join(app, item), { recursive: true });
  }
  // wrangler.toml's [build] (scripts/copy-swagger-ui.mjs) and [assets] (public/), where the source has them.
  for (const item of ["scripts", "public"]) {
    if (existsSync(join(source, item))) cpSync(join(source, item), join(app, item), { recursive: true });
  }
  for (const file of readdirSync(join(repo, "bench"))) {
    if (file.endsWith(".ts") || file === "wrangler.toml") cpSync(join(repo, "bench", file), join(app, "bench", file));
  }
  mkdirSync(join(app, "bench", "lib"));
  cpSync(join(repo, "bench", "lib", "dev-server.mjs"), join(app, "bench", "lib", "dev-server.mjs"));
  symlinkSync(join(repo, "node_modules"), join(app, "node_modules"), "dir");
  return { root, app, state: join(root, "state") };
}

function freeBytes(dir) {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return 0;
  }
}

const wranglerBin = (app) => join(app, "node_modules", ".bin", "wrangler");

/** `wrangler d1 migrations apply --local` (both sets) against the bench config and the fresh state dir. */
export async function migrate(snap) {
  for (const binding of ["PLATFORM_TABLES", "DB"]) {
    if (binding === "PLATFORM_TABLES" && !existsSync(join(snap.app, "platform-migrations"))) continue;
    await run(wranglerBin(snap.app), ["d1", "migrations", "apply", binding, "--local", "--persist-to", snap.state, "-c", "bench/wrangler.toml"], {
      cwd: snap.app,
      env,
    });
  }
}

/** Gzipped size (KiB) of the Worker that `wrangler deploy --dry-run` builds from the main wrangler.toml. */
export async function bundleSize(snap) {
  const outdir = join(snap.root, "dry-run");
  const { stdout } = await run(wranglerBin(snap.app), ["deploy", "--dry-run", "--outdir", outdir, "-c", "wrangler.toml"], { cwd: snap.app, env });
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(outdir)) {
    if (!/\.(m?js|wasm)$/.test(file)) continue;
    const bytes = readFileSync(join(outdir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  const reported = /gzip:\s*([\d.]+)\s*KiB/.exec(stdout)?.[1];
  return { gzipKiB: gzip / 1024, rawKiB: raw / 1024, wranglerGzipKiB: reported ? Number(reported) : null };
}

/** Starts `wrangler dev` in its own process group; resolves once it answers. */
export async function start(snap, { port, logFile, extraArgs = [], extraEnv = {} }) {
  for (const p of [port, port + 1]) {
    if (await listening(p)) throw new Error(`port ${p} is already in use: stop whatever listens there, or set BENCH_PORT`);
  }
  const out = openSync(logFile, "w");
  // wrangler's dev engine without the DevTools inspector: see dev-server.mjs.
  // BENCH_CLI=1 runs the `wrangler dev` command itself instead (inspector attached).
  const cli = /^(1|true|on)$/i.test(process.env.BENCH_CLI ?? "");
  const [command, args] = cli
    ? [
        wranglerBin(snap.app),
        ["dev", "-c", "bench/wrangler.toml", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1),
          "--persist-to", snap.state, "--show-interactive-dev-session=false", ...extraArgs],
      ]
    : [process.execPath, [join(snap.app, "bench", "lib", "dev-server.mjs"), "bench/wrangler.toml", String(port), snap.state]];
  const child = spawn(command, args, { cwd: snap.app, env: { ...env, ...extraEnv }, detached: true, stdio: ["ignore", out, out] });
  const server = { child, base: `http://127.0.0.1:${port}`, exited: false };
  child.on("exit", () => (server.exited = true));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`wrangler dev exited early; see ${logFile}`);
    try {
      const res = await fetch(`${server.base}/__bench/noop`);
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stop(server);
  throw new Error(`wrangler dev did not answer within 90 s; see ${logFile}`);
}

export function listening(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Ends wrangler and its workerd processes (the whole process group), politely then firmly. */
export async function stop(server) {
  if (!server) return;
  const group = -server.child.pid;
  if (!signalGroup(group, "SIGTERM")) return;
  for (let i = 0; i < 30 && !server.exited; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 200));
  signalGroup(group, "SIGKILL");
}

/** For exit handlers, which cannot wait. */
export function killNow(server) {
  if (server) signalGroup(-server.child.pid, "SIGKILL");
}

function signalGroup(group, signal) {
  try {
    process.kill(group, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}

export function cleanup(snap) {
  if (snap) rmSync(snap.root, { recursive: true, force: true });
}
