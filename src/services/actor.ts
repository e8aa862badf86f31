/** Who made a change and from where, as the audit trail records it. */
export interface Actor {
  /** A non-secret label for the token used ("token:1a2b3c4d", a fingerprint). */
  label: string;
  requestId?: string;
  sourceIp?: string;
  userAgent?: string;
}
