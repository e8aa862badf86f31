import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// @ts-expect-error a plain .mjs script, no types
import { copySwaggerUi } from "./scripts/copy-swagger-ui.mjs";

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
        },
      },
      };
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    testTimeout: 30_000,
  },
});
