// Stands in for zod's `locales/index.js` in the Worker bundle (see [alias] in
// wrangler.toml). zod re-exports all of its ~50 locales as a namespace, which
// esbuild cannot tree-shake; this service only ever speaks English, the locale
// zod configures by default. This keeps about 45 KiB (gzipped) out of the bundle.
export { default as en } from "zod/v4/locales/en.js";
