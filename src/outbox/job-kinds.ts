/**
 * What an outbox job asks a worker to do. Names are stored in `outbox.kind`;
 * each has exactly one handler, registered in the composition root.
 */
export const JobKind = Object.freeze({
  /** Hand one recipient's copy of a message to the next MTA. */
  deliver: 'deliver',
  /** Issue, sign and chain the evidence owed for one message's logbook events (src/evidence/evidence-job.ts). */
  evidence: 'evidence',
  /** Mail one evidence's PDF receipt and signed .p7m to the message's sender (src/evidence/receipt-mail.ts). */
  receipt_mail: 'receipt_mail',
  /** Mail a fresh one-time registration code to a portal recipient (src/portal/code-job.ts). */
  portal_code: 'portal_code',
  /** A registered message's acceptance period is over: expire its recipient if still undecided (src/portal/expiry-job.ts). */
  registered_expiry: 'registered_expiry',
  /** POST one logbook event to the tenant's webhook, signed; retried with backoff (src/webhooks/webhook-job.ts). */
  webhook: 'webhook',
  /** The retention sweep: empties expired content in batches, then re-queues itself (src/core/retention.ts). */
  retention: 'retention',
  /** Key rollover: successors from the CA hook for identities nearing expiry, then re-queues itself daily (src/worker/rollover-check.ts). */
  identity_rollover: 'identity_rollover',
} as const);
export type JobKind = (typeof JobKind)[keyof typeof JobKind];

export const jobKinds: readonly JobKind[] = Object.values(JobKind);

export const isJobKind = (value: string): value is JobKind => (jobKinds as readonly string[]).includes(value);
