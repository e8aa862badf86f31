import type { Hook } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { ApiError } from "../lib/errors";

interface Issue {
  path: PropertyKey[];
  message: string;
  code: string;
  expected?: string;
  keys?: string[];
}

const WHERE: Record<string, string> = { json: "body", param: "path", query: "query" };

function describe(issue: Issue, where: string): string {
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys" && issue.keys) {
    const scope = field ? ` in ${field}` : "";
    return `unknown field${issue.keys.length > 1 ? "s" : ""}${scope}: ${issue.keys.join(", ")}`;
  }
  // The whole body is an array, a string, null ...: say what it must be.
  if (!field && issue.code === "invalid_type" && issue.expected === "object") {
    return `the ${where} must be a JSON object (${issue.message.replace(/^Invalid input: /, "")})`;
  }
  if (issue.message.includes(field) && field) return issue.message;
  return field ? `${field}: ${issue.message}` : issue.message;
}

/** Turns a failed zod validation into a 400 that names every field at fault. */
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return;
  const issues = (result.error as unknown as { issues: Issue[] }).issues;
  const target = (result as { target?: string }).target ?? "request";
  const where = WHERE[target] ?? target;
  throw new ApiError(400, "validation_error", `Invalid ${where}: ${issues.map((issue) => describe(issue, where)).join("; ")}`, {
    issues: issues.map((issue) => ({ field: issue.path.map(String).join(".") || null, message: describe(issue, where) })),
  });
};
