import type { RequestIdVariables } from "hono/request-id";
import type { SecureHeadersVariables } from "hono/secure-headers";
import type { Db } from "./db/client";
import type { Env } from "./env";
import type { ApiKey } from "./middleware/auth";
import type { Actor } from "./services/actor";

/** Hono's typing for this app: bindings, and what middleware puts on the context. */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables &
    SecureHeadersVariables & {
      db: Db;
      actor: Actor;
      /** The key the request authenticated with, if any. */
      apiKey?: ApiKey;
      /** Set once a route's role rule has passed, so the generic guard does not ask again. */
      roleChecked?: boolean;
    };
}
