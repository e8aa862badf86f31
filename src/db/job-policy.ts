import { jobs, type JobRow } from "./schema";

/**
 * A job's policy: the settings that say how its runs are run, as opposed to
 * what it runs and when (name, handler, cron expression, time zone, active).
 *
 * Each policy field is a column of `jobs` (src/db/schema.ts): its API name is
 * the column's name, its type and default are the column's. This list adds
 * only what a request may set (bounds) and what the API document says about
 * it. The request and response schemas, the job's JSON, a new registration,
 * a PATCH and the object's config all follow from it, so a new policy is a
 * column, an entry here and a migration.
 */
/** What a request may set a policy field to (numbers: min..max), and what the API document says of it. */
export type PolicyRule = { min?: number; max?: number; description?: string };

export const JOB_POLICY = {
  overlapPolicy: {
    description: 'While a run is in progress: "skip" records a scheduled instant as skipped and refuses a manual trigger (409); "allow" lets runs overlap.',
  },
  misfirePolicy: {
    description: 'Instants missed while the service was down: "run_once" runs once for the latest of them (within catchup_window_seconds); "skip" runs none.',
  },
  catchupWindowSeconds: { min: 0, max: 31_536_000 },
  maxRetries: { min: 0, max: 10 },
  timeoutSeconds: { min: 1, max: 86_400, description: "How long one step of a run may take before the attempt is failed." },
} as const satisfies { [K in keyof JobRow]?: PolicyRule };

export type PolicyKey = keyof typeof JOB_POLICY;
export const POLICY_KEYS = Object.keys(JOB_POLICY) as PolicyKey[];

/** A policy field's name in the API: its column's name (catchupWindowSeconds → catchup_window_seconds). */
export type PolicyName<K extends PolicyKey = PolicyKey> = (typeof jobs)[K]["_"]["name"];
export const policyName = <K extends PolicyKey>(key: K) => jobs[key].name as PolicyName<K>;

/** The policy as the API writes it. */
export type PolicyFields = { [K in PolicyKey as PolicyName<K>]: JobRow[K] };

/** A row's policy, in API names. */
export function policyOf(row: Pick<JobRow, PolicyKey>): PolicyFields {
  return Object.fromEntries(POLICY_KEYS.map((key) => [policyName(key), row[key]])) as PolicyFields;
}

/** The policy fields a request names (the others left out), as columns. */
export function policyFrom(request: Partial<PolicyFields>): Partial<Pick<JobRow, PolicyKey>> {
  const named = POLICY_KEYS.filter((key) => request[policyName(key)] !== undefined);
  return Object.fromEntries(named.map((key) => [key, request[policyName(key)]]));
}
