// Stands in for zod's `locales/index.js` in the Worker bundle (see [alias] in
// wrangler.toml). zod re-exports all of its ~50 locales as a namespace, which
// esbuild cannot tree-shake; this service only ever speaks English, the locale
// zod configures by default, so the other locales stay out of the bundle
// (their size: bench/RESULTS.md, "The bundle without zod's other locales").
export { default as en } from "zod/v4/locales/en.js";
