import { exports } from "cloudflare:workers";

export const BASE = "https://scheduler.test/api/v1/scheduler";
export const TOKEN = "test-token";

let counter = 0;
/** A job name no other test uses. */
export function uniqueName(prefix = "job"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

/** Calls the Worker through its own fetch, as a client would. */
export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization ??= `Bearer ${token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const url = path.startsWith("http") ? path : `${BASE}${path}`;
  const response = await exports.default.fetch(new Request(url, { method, headers, body }));
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json, text };
}

export function registerJob(name: string, fields: Record<string, unknown> = {}) {
  return call("POST", "/jobs", {
    body: { job_name: name, cron_expression: "0 2 * * *", handler: "checkCertificationExpiry", ...fields },
  });
}
