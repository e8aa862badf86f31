// A real webhook receiver on 127.0.0.1, as a platform would run one: it verifies every
// request with the `standardwebhooks` package and counts deliveries per webhook-id.
// Used by e2e/delivery.e2e.mjs and bench/delivery.mjs; `node e2e/receiver.mjs [port]`
// runs one for `npm run dev` and prints the .dev.vars lines that point the service at it.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

export function newSecret() {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** .dev.vars lines (a file for `--env-file`) that send every notification to the receiver at `url`, signed with `secret`. */
export function webhookDevVars({ token, url, secret, retryBaseSeconds = 1, extra = [] }) {
  const lines = [`SCHEDULER_API_TOKEN=${token}`, "NOTIFY_CHANNEL=webhook", `NOTIFY_WEBHOOK_URL=${url}`, `NOTIFY_WEBHOOK_SECRET=${secret}`];
  return [...lines, `NOTIFY_RETRY_BASE_SECONDS=${retryBaseSeconds}`, ...extra, ""].join("\n");
}

/**
 * Starts the receiver. `decide(event, headers)` may return a status (and headers) to
 * answer instead of 204. Every request is recorded; `accepted` counts 2xx answers per id.
 */
export async function startReceiver({ secret, port = 0, decide = () => null, keep = true } = {}) {
  const webhook = new Webhook(secret);
  const state = { requests: 0, connections: 0, invalid: 0, accepted: new Map(), answers: [], log: [] };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      state.requests++;
      const body = Buffer.concat(chunks).toString("utf8");
      let event;
      try {
        event = webhook.verify(body, req.headers);
      } catch (error) {
        state.invalid++;
        res.writeHead(400).end(`signature: ${error.message}`);
        return;
      }
      const id = req.headers["webhook-id"];
      const answer = decide(event, req.headers) ?? { status: 204 };
      if (keep) state.log.push({ id, type: event.type, status: answer.status, data: event.data });
      if (answer.status >= 200 && answer.status < 300) state.accepted.set(id, (state.accepted.get(id) ?? 0) + 1);
      res.writeHead(answer.status, answer.headers ?? {}).end();
    });
  });
  // How many TCP connections the sender opened: one per request means no keep-alive.
  server.on("connection", () => state.connections++);
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/hooks`;
  return {
    url,
    state,
    close: () => new Promise((resolve) => server.close(resolve)),
    duplicates: () => [...state.accepted.values()].filter((n) => n > 1).length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.NOTIFY_WEBHOOK_SECRET ?? newSecret();
  const receiver = await startReceiver({
    secret,
    port: Number(process.argv[2] ?? 9000),
    decide: (event, headers) => {
      console.log(`${headers["webhook-id"]} ${event.type} ${JSON.stringify(event.data)}`);
      return null;
    },
  });
  console.log(`receiver: listening; put these lines in .dev.vars and restart npm run dev:\nNOTIFY_WEBHOOK_URL=${receiver.url}\nNOTIFY_WEBHOOK_SECRET=${secret}`);
}
