import type { RequestIdVariables } from "hono/request-id";
import type { Db } from "./db/client";
import type { Env } from "./env";
import type { Actor } from "./services/actor";

/** Hono's typing for this app: bindings, and what middleware puts on the context. */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    db: Db;
    actor: Actor;
  };
}
