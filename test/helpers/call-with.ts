import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { BASE } from "./api";

/** Calls the Worker in-process with bindings changed (REQUIRE_AUTH_FOR_READS, no secret ...), as `call` does otherwise. */
export async function callWith(
  overrides: Partial<Env>,
  method: string,
  url: string,
  init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const full = url.startsWith("http") ? url : `${BASE}${url}`;
  const request = new Request(full, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const response = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, json, text };
}
