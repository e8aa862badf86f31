import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { AlertBanner } from "./alerts";
import { absoluteTime, relativeTime } from "./format";

// Small and dependency-free; served as /dashboard.css (not inline), so the page's
// Content-Security-Policy can forbid inline styles and scripts.
export const DASHBOARD_CSS = `
:root { color-scheme: light; --fg:#1d2433; --muted:#5c6578; --line:#e3e7ee; --bg:#f6f8fb; --card:#fff; --accent:#2457c5; }
* { box-sizing: border-box; } [hidden] { display:none !important; }
.job-actions { border-top:1px solid var(--line); margin-top:1rem; padding-top:.2rem; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2433; color:#fff; padding:.7rem 1.2rem; display:flex; gap:1.2rem; align-items:baseline; flex-wrap:wrap; }
header a { color:#fff; text-decoration:none; } header .brand { font-weight:650; font-size:1.1rem; }
header nav { display:flex; gap:1rem; font-size:.9rem; opacity:.85; }
main { max-width:1120px; margin:0 auto; padding:1.2rem; }
h1 { font-size:1.45rem; margin:.2rem 0 .8rem; display:flex; gap:.6rem; align-items:center; flex-wrap:wrap; }
h2 { font-size:1.05rem; margin:1.6rem 0 .6rem; }
a { color:var(--accent); }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
th, td { text-align:left; padding:.55rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:.78rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#fafbfd; }
tr:last-child td { border-bottom:0; }
code { font:13px ui-monospace,SFMono-Regular,Menlo,monospace; background:#eef1f6; padding:.1rem .35rem; border-radius:4px; }
#runs code { white-space:nowrap; }
.muted { color:var(--muted); font-size:.86rem; }
.badge { display:inline-block; padding:.1rem .55rem; border-radius:999px; font-size:.78rem; font-weight:600; white-space:nowrap; }
.success { background:#dcf5e3; color:#17663a; } .failed { background:#fde2e1; color:#a3231b; }
.running { background:#dde8ff; color:#1d4ab3; } .skipped, .never { background:#eceef2; color:#5c6578; }
.active { background:#dcf5e3; color:#17663a; } .paused { background:#fff1d6; color:#8a5a00; }
.dry { background:#f0e6ff; color:#5b2aa6; } .block { display:block; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.35rem 1rem; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
.actions { display:flex; gap:.5rem; flex-wrap:wrap; align-items:center; margin-top:.8rem; }
button { font:inherit; padding:.4rem .9rem; border-radius:7px; border:1px solid #c5ccd8; background:#fff; cursor:pointer; }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button:disabled { opacity:.55; cursor:wait; }
input[type=password] { font:inherit; padding:.38rem .6rem; border:1px solid #c5ccd8; border-radius:7px; min-width:14rem; }
#action-status { min-height:1.3rem; margin:.6rem 0 0; } #action-status.error { color:#a3231b; }
.grid { display:grid; grid-template-columns:2fr 1fr; gap:1rem; } .grid > * { min-width:0; }
ol.upcoming { margin:0; padding-left:1.2rem; } ol.upcoming li { margin:.2rem 0; }
svg.chart { width:100%; height:auto; display:block; }
.alert-banner { background:#fde2e1; color:#7a1a14; border-bottom:1px solid #f4b9b5; padding:.55rem 1.2rem; font-size:.92rem; }
.alert-banner a { color:#7a1a14; } .paused-reason { margin:-.4rem 0 .8rem; color:#8a5a00; }
@media (max-width: 720px) {
  main { padding:.7rem; } .grid { grid-template-columns:1fr; }
  table, thead, tbody, tr, td { display:block; } thead { display:none; }
  tr { border-bottom:1px solid var(--line); padding:.4rem 0; } td { border:0; padding:.2rem .7rem; }
  td[data-label]::before { content:attr(data-label); display:block; font-size:.72rem; text-transform:uppercase; color:var(--muted); }
}
`;

/** `script`: whether the page loads /dashboard.js (the job page's actions). */
export function Layout(props: { title: string; children: Child; script?: boolean }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title} · Nightly Scheduler</title>
          <link rel="stylesheet" href="/dashboard.css" />
        </head>
        <body>
          <header>
            <a class="brand" href="/">Nightly Scheduler</a>
            <nav>
              <a href="/">Jobs</a>
              <a href="/deliveries">Deliveries</a>
              <a href="/reports">Reports</a>
              <a href="/docs">API reference</a>
              <a href="/api/v1/scheduler/health">Health</a>
            </nav>
          </header>
          <AlertBanner />
          <main>{props.children}</main>
          {props.script ? <script src="/dashboard.js" defer /> : null}
        </body>
      </html>
    </>
  );
}

/** A run or job status as a coloured badge; null is "never" (no run yet). */
export function StatusBadge(props: { status: string | null }) {
  const status = props.status ?? "never";
  return <span class={`badge ${status}`}>{status}</span>;
}

/** A time as relative text, with the absolute time beside it and in the tooltip. */
export function When(props: { at: string | null; now: Date; absolute?: boolean }) {
  if (!props.at) return <span class="muted">—</span>;
  return (
    <span>
      <time datetime={props.at} title={absoluteTime(props.at)}>
        {relativeTime(props.at, props.now)}
      </time>
      {props.absolute === false ? null : <span class="muted block">{absoluteTime(props.at)}</span>}
    </span>
  );
}
