import type { Hook } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { ApiError } from "../lib/errors";

interface Issue {
  path: PropertyKey[];
  message: string;
  code: string;
  keys?: string[];
}

function describe(issue: Issue): string {
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys" && issue.keys) {
    const where = field ? ` in ${field}` : "";
    return `unknown field${issue.keys.length > 1 ? "s" : ""}${where}: ${issue.keys.join(", ")}`;
  }
  if (issue.message.includes(field) && field) return issue.message;
  return field ? `${field}: ${issue.message}` : issue.message;
}

/** Turns a failed zod validation into a 400 that names every field at fault. */
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return;
  const issues = (result.error as unknown as { issues: Issue[] }).issues;
  const target = (result as { target?: string }).target ?? "request";
  const where = target === "json" ? "body" : target === "param" ? "path" : target;
  throw new ApiError(400, "validation_error", `Invalid ${where}: ${issues.map(describe).join("; ")}`, {
    issues: issues.map((issue) => ({ field: issue.path.map(String).join(".") || null, message: describe(issue) })),
  });
};
