import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      // The service's Worker with test hooks on its JobScheduler (test/worker.ts).
      main: "./test/worker.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          SCHEDULER_API_TOKEN: "test-token-old,test-token",
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          // The optional set of the platform's own tables (wrangler.toml's PLATFORM_TABLES).
          TEST_PLATFORM_MIGRATIONS: await readD1Migrations("./platform-migrations"),
          // What an existing deployment applied before the platform's tables became their own set.
          TEST_LEGACY_MIGRATIONS: await readD1Migrations("./test/fixtures/legacy-migrations"),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    testTimeout: 30_000,
  },
});
