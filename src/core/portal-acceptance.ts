import { and, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { portalTokens } from '../db/schema.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { enqueueJob } from '../outbox/enqueue.ts';
import { JobKind } from '../outbox/job-kinds.ts';
import { EventType } from './event-types.ts';
import { canTransition, type RecipientStatus } from './states.ts';
import { transitionRecipients } from './transition.ts';

/**
 * Registered mail (docs/modes.md, "Registered mail"): the recipient accepts or
 * refuses before the content is shown; undecided at the end of the acceptance
 * period, the copy expires. Business domains listed in PORTAL_AUTO_ACCEPT_DOMAINS
 * accept automatically at first open. The event names (`accepted_by_recipient`,
 * `refused`, `expired`) are what src/evidence turns into signed receipts.
 */
export const AUTO_ACCEPTANCE_ACTOR = 'auto-acceptance';
export const EXPIRY_ACTOR = 'system:acceptance-period';

/** Statuses in which a registered copy still waits for the recipient's decision. */
const undecided: readonly RecipientStatus[] = ['delivered', 'opened'];

export const isUndecided = (status: RecipientStatus) => undecided.includes(status);

/** Queued with the link (src/worker/prepare-copy.ts): due when the acceptance period ends. */
export async function scheduleRegisteredExpiry(tx: DbOrTx, subject: { messageId: string; recipientId: string }, delaySeconds: number): Promise<void> {
  await enqueueJob(tx, { kind: JobKind.registered_expiry, messageId: subject.messageId, recipientId: subject.recipientId, delaySeconds });
}

export const autoAccepts = (address: string, domains: readonly string[]) => domains.includes(address.slice(address.lastIndexOf('@') + 1).toLowerCase());

/** The recipient's (or auto-acceptance's) decision; false when the copy is no longer undecided. */
export async function decide(
  db: DbOrTx,
  copy: { message: MessageRow; recipient: RecipientRow },
  decision: 'accepted_by_recipient' | 'refused',
  actor: string,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const result = await transitionRecipients(tx, copy.message.id, actor, (_m, recipients) => {
      const r = recipients.find((x) => x.id === copy.recipient.id);
      if (!r || !isUndecided(r.status) || !canTransition(r.status, decision)) return [];
      return [{ recipientId: r.id, to: decision, event: { type: EventType[decision], detail: { via: 'portal' } } }];
    });
    return result.changes.length > 0;
  });
}

/**
 * The acceptance period of one registered copy is over (the `registered_expiry`
 * job): a still-undecided recipient becomes `expired`. When a later delivery
 * attempt issued a newer link, the period runs until that link expires:
 * answers `{ notBefore }` so the job waits for it.
 */
export async function expireUndecided(db: DbOrTx, messageId: string, recipientId: string, now: Date = new Date()): Promise<'expired' | 'decided' | { notBefore: Date }> {
  return db.transaction(async (tx) => {
    const [latest] = await tx
      .select({ expiresAt: portalTokens.expiresAt })
      .from(portalTokens)
      .where(and(eq(portalTokens.messageId, messageId), eq(portalTokens.recipientId, recipientId)))
      .orderBy(desc(portalTokens.expiresAt))
      .limit(1);
    if (latest && latest.expiresAt > now) return { notBefore: latest.expiresAt };
    const result = await transitionRecipients(tx, messageId, EXPIRY_ACTOR, (_m, recipients) => {
      const r = recipients.find((x) => x.id === recipientId);
      if (!r || !isUndecided(r.status)) return [];
      return [{ recipientId: r.id, to: 'expired', event: { type: EventType.expired, detail: { reason: 'not accepted within the acceptance period' } } }];
    });
    return result.changes.length > 0 ? 'expired' : 'decided';
  });
}
