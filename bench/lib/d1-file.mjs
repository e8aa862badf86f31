// Reads the local D1 database file directly (read-only), so the runner can
// see the moment every run is recorded without asking the Worker, whose
// requests queue behind the very fan-out being measured.
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Opens the one D1 database under a `--persist-to` directory, or returns null (then the runner polls a route). */
export async function openD1File(state) {
  const dir = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  let file;
  try {
    file = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  } catch {
    return null;
  }
  if (!file) return null;
  const emit = process.emitWarning;
  // node:sqlite announces itself as experimental on Node 22; nothing to act on here.
  process.emitWarning = (warning, ...rest) => (/SQLite/.test(String(warning)) ? undefined : emit.call(process, warning, ...rest));
  try {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    const runs = db.prepare(
      "SELECT count(*) AS n FROM runs WHERE job_name >= ? AND job_name < ? AND scheduled_for = ? AND status != 'running'",
    );
    const baseline = db.prepare("SELECT count(*) AS n FROM bench_baseline WHERE phase = ?");
    return {
      finishedRuns: (prefix, instantIso) => Number(runs.get(`${prefix}-`, `${prefix}.`, instantIso).n),
      baselineRows: (phase) => Number(baseline.get(phase).n),
      close: () => db.close(),
    };
  } catch {
    return null;
  } finally {
    process.emitWarning = emit;
  }
}
