// bench/wrangler.toml mirrors the build and runtime settings of ../wrangler.toml
// by hand (plus the bench-only objects). This names what the service's config
// has that the bench's lacks, so a drift shows up in the bench output.
import { readFileSync } from "node:fs";

/** The settings that change how the Worker is built or run, as comparable strings. */
function settings(text) {
  const found = new Set();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const top = section === "" && /^(compatibility_date|compatibility_flags|minify|no_bundle|keep_names|node_compat)\s*=/.test(line);
    if (top || section === "alias" || (section === "vars" && /^FIRE_LEAD_MS\s*=/.test(line)) || section === "durable_objects.bindings" || section === "d1_databases") {
      found.add(`${section ? `[${section}] ` : ""}${line.replace(/\s+/g, " ").replace(/"\.\.?\/src\//g, '"src/')}`);
    }
  }
  return found;
}

/** Lines of ../wrangler.toml's build/runtime settings missing from bench/wrangler.toml. */
export function configDrift(mainPath, benchPath) {
  const bench = settings(readFileSync(benchPath, "utf8"));
  return [...settings(readFileSync(mainPath, "utf8"))].filter((line) => !bench.has(line) && !/migrations_dir/.test(line));
}
