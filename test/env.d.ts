import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      TEST_PLATFORM_MIGRATIONS: D1Migration[];
      TEST_LEGACY_MIGRATIONS: D1Migration[];
      /** The auxiliary webhook receiver (test/receiver/worker.js). */
      RECEIVER: Fetcher;
    }
  }
}

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./worker");
      durableNamespaces: "JobScheduler" | "Supervisor";
    }
  }
}
