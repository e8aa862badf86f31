// The tests' webhook receiver: an auxiliary Worker outside the service, reached by
// the service's outbound fetch (vitest.config.ts: outboundService). It records
// every request and answers as the test planned, per path:
//   POST /__control/plan  {path, webhook_id?, status, times?, retry_after?, hang_ms?}
//                         (with webhook_id, only requests carrying that webhook-id)
//   GET  /__control/received?path=/hooks/x   every request to that path, in order
// Requests to other paths answer 204.
const received = [];
const plans = [];

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__control/plan") {
      plans.push(await request.json());
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__control/received") {
      const path = url.searchParams.get("path");
      return Response.json(received.filter((r) => r.path === path));
    }
    const body = await request.text();
    const id = request.headers.get("webhook-id");
    const plan = plans.find((p) => p.path === url.pathname && (p.webhook_id === undefined || p.webhook_id === id) && (p.times ?? 1) !== 0);
    if (plan && plan.times !== undefined) plan.times -= 1;
    const status = plan?.status ?? 204;
    received.push({
      path: url.pathname,
      host: url.host,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body,
      answered: plan?.hang_ms ? "hung" : status,
    });
    if (plan?.hang_ms) await new Promise((resolve) => setTimeout(resolve, plan.hang_ms));
    const headers = plan?.retry_after ? { "retry-after": String(plan.retry_after) } : {};
    return new Response(status === 204 ? null : `answered ${status}`, { status, headers });
  },
};
