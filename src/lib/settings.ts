import type { Env } from "../env";

/**
 * The Worker's plain settings ([vars]), parsed strictly. A setting that cannot be
 * read fails closed (the safer meaning) and is named by `settingProblems`, which
 * /health reports, so a typo is visible instead of silently meaning "off".
 */

export interface SettingProblem {
  setting: string;
  message: string;
}

/**
 * REQUIRE_AUTH_FOR_READS: "true" or "false" in any case (unset = false). Anything
 * else locks reads, because the audit found "TRUE" leaving them public.
 */
export function readsLocked(env: Pick<Env, "REQUIRE_AUTH_FOR_READS">): boolean {
  const value = env.REQUIRE_AUTH_FOR_READS;
  if (value === undefined) return false;
  return value.trim().toLowerCase() !== "false";
}

function readsLockProblem(env: Env): SettingProblem | null {
  const value = env.REQUIRE_AUTH_FOR_READS;
  if (value === undefined || /^(true|false)$/i.test(value.trim())) return null;
  return {
    setting: "REQUIRE_AUTH_FOR_READS",
    message: 'must be "true" or "false"; it is neither, so reads are locked (fail closed)',
  };
}

/**
 * CORS_ORIGINS: origins allowed to call the API from a browser on another site,
 * separated by commas or spaces (e.g. "https://ops.example.org"). Unset: none.
 * Public reads (GET) are answered with `Access-Control-Allow-Origin: *` either way;
 * a change from another origin needs its origin listed here.
 */
export function corsOrigins(env: Pick<Env, "CORS_ORIGINS">): string[] {
  return (env.CORS_ORIGINS ?? "")
    .split(/[\s,]+/)
    .map((o) => o.trim())
    .filter((o) => /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(o));
}

function corsProblem(env: Env): SettingProblem | null {
  const listed = (env.CORS_ORIGINS ?? "").split(/[\s,]+/).filter((o) => o.length > 0);
  const bad = listed.filter((o) => !corsOrigins({ CORS_ORIGINS: o }).length);
  if (bad.length === 0) return null;
  return { setting: "CORS_ORIGINS", message: `${bad.length} entr(ies) are not an origin like https://host[:port]; ignored` };
}

/** A whole number of days from 1 to 36500, or the default; a bad value keeps the default (keeping data is the safe side). */
function days(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^[0-9]{1,5}$/.test(value.trim())) return fallback;
  const n = Number(value.trim());
  return n >= 1 && n <= 36_500 ? n : fallback;
}

function daysProblem(env: Env, setting: "RUN_RETENTION_DAYS" | "AUDIT_RETENTION_DAYS"): SettingProblem | null {
  const value = env[setting];
  if (value === undefined || days(value, -1) !== -1) return null;
  return { setting, message: "must be whole days from 1 to 36500; the default is used" };
}

export const RUN_RETENTION_DAYS_DEFAULT = 30;
export const AUDIT_RETENTION_DAYS_DEFAULT = 400;

export function runRetentionDays(env: Pick<Env, "RUN_RETENTION_DAYS">): number {
  return days(env.RUN_RETENTION_DAYS, RUN_RETENTION_DAYS_DEFAULT);
}

export function auditRetentionDays(env: Pick<Env, "AUDIT_RETENTION_DAYS">): number {
  return days(env.AUDIT_RETENTION_DAYS, AUDIT_RETENTION_DAYS_DEFAULT);
}

/** Every setting that could not be read as written, for /health. Names settings, never values (a value may be a secret). */
export function settingProblems(env: Env, keyProblems: string[] = []): SettingProblem[] {
  const problems = [readsLockProblem(env), corsProblem(env), daysProblem(env, "RUN_RETENTION_DAYS"), daysProblem(env, "AUDIT_RETENTION_DAYS")];
  return [
    ...problems.filter((p): p is SettingProblem => p !== null),
    ...keyProblems.map((message) => ({ setting: "SCHEDULER_API_KEYS", message })),
  ];
}
