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
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          SCHEDULER_API_TOKEN: "test-token-old,test-token",
          // Named keys (issue 14): one per role, and "ops" twice, mid-rotation. See test/roles.test.ts.
          SCHEDULER_API_KEYS: "reader:read:test-key-read,ops:operator:test-key-ops\nops:operator:test-key-ops-new, boss:admin:test-key-admin",
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
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
