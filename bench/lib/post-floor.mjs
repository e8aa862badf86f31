#!/usr/bin/env node
// The local HTTP floor for `npm run bench:delivery`: a plain Node client, in its own
// process (as workerd is), that signs and POSTs `count` Standard Webhooks events to the
// receiver, `inFlight` at a time over keep-alive connections (node:http); no queue, no
// D1. Prints the seconds it took, as JSON. Its ids are floor_<n>, apart from the run's.
//   node bench/lib/post-floor.mjs <url> <secret> <count> <inFlight>
import { Agent, request } from "node:http";
import { Webhook } from "standardwebhooks";

const [url, secret, count, inFlight] = process.argv.slice(2);
const webhook = new Webhook(secret);
const total = Number(count);
let next = 0;
let failed = 0;
const agent = new Agent({ keepAlive: true, maxSockets: Number(inFlight) });
/** One POST; resolves with the status once the answer has been read. */
const post = (headers, body) =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
const started = performance.now();
async function lane() {
  while (next < total) {
    const id = `floor_${next++}`;
    const at = new Date();
    const body = JSON.stringify({ type: "cert_expiry_reminder", timestamp: at.toISOString(), data: { notification_id: id } });
    const status = await post(
      {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": webhook.sign(id, at, body),
      },
      body,
    );
    if (status < 200 || status >= 300) failed++;
  }
}
await Promise.all(Array.from({ length: Number(inFlight) }, lane));
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, failed }));
agent.destroy();
