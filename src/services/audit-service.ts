import type { Db } from "../db/client";
import type { AuditRow } from "../db/schema";
import { iso } from "../lib/instants";
import { keysetPaging } from "../lib/paging";
import * as auditRepo from "../repositories/audit-repo";

/** Audit entries are paged by their sequence number; an entry's id is its cursor ("audit-42"). */
export const auditPaging = keysetPaging("audit-");

export function presentAuditEntry(row: AuditRow) {
  return {
    audit_id: auditPaging.cursorOf(row.seq),
    at: iso(new Date(row.at)),
    action: row.action,
    job_name: row.jobName,
    actor: row.actor,
    request_id: row.requestId,
    client_request_id: row.clientRequestId,
    source_ip: row.sourceIp,
    user_agent: row.userAgent,
    before: row.before ?? null,
    after: row.after ?? null,
  };
}

/** The audit trail, newest first, optionally of one job. */
export async function listAudit(db: Db, query: { job_name?: string; limit: number; cursor?: string }) {
  const rows = await auditRepo.listAudit(db, query.limit + 1, query.job_name, auditPaging.before(query.cursor));
  return auditPaging.page(rows, query.limit, (row) => row.seq, presentAuditEntry);
}
