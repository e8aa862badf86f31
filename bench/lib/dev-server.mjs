#!/usr/bin/env node
// The benchmark's `wrangler dev`: wrangler's own dev engine (`unstable_startWorker`,
// which the `wrangler dev` command wraps), started with the same config, port and
// state directory, but without the DevTools inspector connection.
//
// Why: `wrangler dev` always attaches its inspector proxy to workerd with
// `Runtime.enable`, so every console.log in the Worker is also serialised for
// DevTools on the thread that runs every object, which makes logging cost several
// times what it does without the inspector (bench/RESULTS.md, "The DevTools
// inspector"). Production has no inspector; the log lines themselves are still
// written (to this process's stdout, like the CLI).
//   node bench/lib/dev-server.mjs <config> <port> <persist-dir>
import { unstable_startWorker } from "wrangler";

const [config, port, persist] = process.argv.slice(2);
if (!config || !port || !persist) {
  console.error("usage: dev-server.mjs <config> <port> <persist-dir>");
  process.exit(2);
}
const worker = await unstable_startWorker({
  config,
  dev: {
    server: { hostname: "127.0.0.1", port: Number(port) },
    inspector: false,
    persist,
    watch: false,
    logLevel: "log",
  },
});
await worker.ready;
console.log(`[dev-server] ready on ${String(await worker.url)}`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await worker.dispose().catch(() => {});
    process.exit(0);
  });
}
