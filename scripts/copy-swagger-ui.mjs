#!/usr/bin/env node
// Copies Swagger UI's browser files from the npm package (swagger-ui-dist, pinned
// exactly in package.json) into public/docs/swagger-ui/, which Workers Static Assets
// serves for /docs. Run by wrangler's [build] (dev, deploy) and by vitest.config.ts.
// The copy is not committed: the lockfile pins it, and this refuses a version drift.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = join(ROOT, "node_modules", "swagger-ui-dist");
const TARGET = join(ROOT, "public", "docs", "swagger-ui");
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

export function copySwaggerUi() {
  const pinned = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies["swagger-ui-dist"];
  const installed = JSON.parse(readFileSync(join(SOURCE, "package.json"), "utf8")).version;
  if (!/^\d+\.\d+\.\d+$/.test(pinned ?? "")) throw new Error(`swagger-ui-dist must be pinned to an exact version in package.json, found ${pinned}`);
  if (installed !== pinned) throw new Error(`swagger-ui-dist ${installed} is installed but package.json pins ${pinned}; run npm ci`);
  mkdirSync(TARGET, { recursive: true });
  for (const file of FILES) copyFileSync(join(SOURCE, file), join(TARGET, file));
  return installed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`copy-swagger-ui: swagger-ui-dist ${copySwaggerUi()} -> public/docs/swagger-ui/`);
}
