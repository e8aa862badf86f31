import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// @ts-expect-error a plain .mjs script, no types
import { copySwaggerUi } from "./scripts/copy-swagger-ui.mjs";

/** The tests' webhook secret (Standard Webhooks form): 32 bytes of 0x01..0x20, base64. */
const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1)).toString("base64")}`;

export default defineConfig({
  plugins: [
    cloudflareTest(async () => {
      // wrangler.toml's [assets] directory must hold Swagger UI before the Worker starts (wrangler's [build] does this for dev and deploy).
      copySwaggerUi();
      return {
      // The service's Worker with test hooks on its JobScheduler (test/worker.ts).
      main: "./test/worker.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          SCHEDULER_API_TOKEN: "test-token-old,test-token",
          // Named keys (issue 14): one per role, and "ops" twice, mid-rotation. See test/roles.test.ts.
          SCHEDULER_API_KEYS: "reader:read:test-key-read,ops:operator:test-key-ops\nops:operator:test-key-ops-new, boss:admin:test-key-admin",
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          // The optional set of the platform's own tables (wrangler.toml's PLATFORM_TABLES).
          TEST_PLATFORM_MIGRATIONS: await readD1Migrations("./platform-migrations"),
          // What an existing deployment applied before the platform's tables became their own set.
          TEST_LEGACY_MIGRATIONS: await readD1Migrations("./test/fixtures/legacy-migrations"),
          // Delivery: email (simulated by the runtime) and a webhook to the receiver below.
          NOTIFY_FROM: "scheduler@example.org",
          NOTIFY_WEBHOOK_URL: "https://receiver.test/hooks/default",
          NOTIFY_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
          REPORT_RECIPIENTS: "coordinators@example.org",
          NOTIFY_WEBHOOK_TIMEOUT_MS: "300",
          NOTIFY_RETRY_BASE_SECONDS: "1",
        },
        // Every outbound fetch of the service goes to the receiver: it stands for the
        // systems outside ours (the platform's mail provider, a coordinator's endpoint).
        outboundService: "receiver",
        serviceBindings: { RECEIVER: "receiver" },
        workers: [{ name: "receiver", modules: true, scriptPath: "./test/receiver/worker.js", compatibilityDate: "2026-10-01" }],
        queueConsumers: {
          // These replace wrangler.toml's consumer settings. Fewer queue retries (3 deliveries)
          // than a row's own attempts (NOTIFY_MAX_ATTEMPTS, 6), so a test reaches the dead-letter queue.
          "nightly-notifications": { maxBatchTimeout: 0.05, maxRetries: 2, deadLetterQueue: "nightly-notifications-dlq" },
          "nightly-notifications-dlq": { maxBatchTimeout: 0.05 },
        },
      },
      };
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    testTimeout: 30_000,
    // Two files at a time even on a 2-core machine (the default there is one): much of a file's
    // time is its runtime's start and its migrations, which overlap well.
    maxWorkers: 2,
  },
});
