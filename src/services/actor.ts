/** Who made a change and from where, as the audit trail records it. */
export interface Actor {
  /** The key's name, "api" for the unnamed SCHEDULER_API_TOKEN; never anything derived from a token. */
  label: string;
  /** The key's role, when the request was authenticated. */
  role?: "read" | "operator" | "admin";
  /** The server's id for this request (never the client's). */
  requestId?: string;
  /** The client's X-Request-Id, if it sent a well-formed one (kept apart: it is the client's claim). */
  clientRequestId?: string;
  sourceIp?: string;
  userAgent?: string;
}
