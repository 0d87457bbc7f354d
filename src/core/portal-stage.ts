import { and, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { portalTokens } from '../db/schema.ts';
import { isUndecided } from './portal-acceptance.ts';
import type { PortalCopy } from './portal-access.ts';
import { accountAddress, accountStep } from './portal-accounts.ts';
import type { PortalSession } from './portal-sessions.ts';

export type PortalCopyView = Extract<PortalCopy, { kind: 'copy' }>;

/** What a personal or registered copy's recipient must do next, in this order (docs/modes.md, "Flows"). */
export type Stage =
  | { kind: 'locked'; until: Date }
  | { kind: 'register' }
  | { kind: 'code_sent' }
  | { kind: 'login' }
  | { kind: 'other_account' }
  | { kind: 'unlock' }
  | { kind: 'not_ready' }
  | { kind: 'refused' }
  | { kind: 'expired' }
  | { kind: 'decide'; acceptBy: Date }
  | { kind: 'content' };

/**
 * The one rule for who sees what: not logged in → register (code, then
 * password and terms) or log in; logged in as another address → nothing;
 * an unlock code not yet entered in this session → unlock; registered mail →
 * refused / expired / not yet delivered / accept-or-refuse, and the content
 * only once accepted; personal mail → the content.
 */
export async function stageOf(db: DbOrTx, copy: PortalCopyView, session: PortalSession, now: Date = new Date()): Promise<Stage> {
  const address = accountAddress(copy.recipient.address);
  if (!session.address) {
    const step = await accountStep(db, address, now);
    return step.step === 'locked' ? { kind: 'locked', until: step.until } : { kind: step.step };
  }
  if (session.address !== address) return { kind: 'other_account' };
  if (copy.content.unlockCode && !session.unlocked.includes(copy.recipient.id)) {
    const step = await accountStep(db, address, now);
    return step.step === 'locked' ? { kind: 'locked', until: step.until } : { kind: 'unlock' };
  }
  if (copy.message.mode !== 'registered') return { kind: 'content' };
  const status = copy.recipient.status;
  if (status === 'refused') return { kind: 'refused' };
  if (status === 'expired') return { kind: 'expired' };
  if (status === 'accepted_by_recipient') return { kind: 'content' };
  if (!isUndecided(status)) return { kind: 'not_ready' };
  const [latest] = await db
    .select({ expiresAt: portalTokens.expiresAt })
    .from(portalTokens)
    .where(and(eq(portalTokens.messageId, copy.message.id), eq(portalTokens.recipientId, copy.recipient.id)))
    .orderBy(desc(portalTokens.expiresAt))
    .limit(1);
  return { kind: 'decide', acceptBy: latest?.expiresAt ?? now };
}
