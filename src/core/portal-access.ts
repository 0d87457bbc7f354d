import { findAttachments, findRecipients } from '../db/repositories/messages.ts';
import { messages } from '../db/schema.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { eq } from 'drizzle-orm';
import type { CoreContext } from './context.ts';
import { EventType } from './event-types.ts';
import { lookUpPortalToken } from './portal-tokens.ts';
import { attachmentContext, openContent, type SealedContent } from './sealed-content.ts';
import { canTransition, type Language } from './states.ts';
import { transitionRecipients } from './transition.ts';

/** The actor the logbook records for what a recipient did in the portal. */
export const PORTAL_ACTOR = 'recipient:portal';

export type PortalCopy =
  | { kind: 'unknown' }
  | { kind: 'expired'; mode: MessageRow['mode'] | undefined }
  /** The retention sweep emptied the message (src/core/retention.ts): nothing left to show. */
  | { kind: 'content_deleted'; language: Language }
  | { kind: 'copy'; message: MessageRow; recipient: RecipientRow; content: SealedContent; language: Language };

/** What a portal link opens: the message and the recipient it was issued to, content unsealed. */
export async function findPortalCopy(ctx: Pick<CoreContext, 'db' | 'cipher'>, token: string): Promise<PortalCopy> {
  const found = await lookUpPortalToken(ctx.db, token);
  if (found.kind === 'unknown') return found;
  if (found.kind === 'expired') {
    const [expired] = await ctx.db.select({ mode: messages.mode }).from(messages).where(eq(messages.id, found.row.messageId));
    return { kind: 'expired', mode: expired?.mode };
  }
  const [message] = await ctx.db.select().from(messages).where(eq(messages.id, found.row.messageId));
  const recipient = (await findRecipients(ctx.db, [found.row.messageId])).find((r) => r.id === found.row.recipientId);
  if (!message || !recipient) return { kind: 'unknown' };
  if (message.contentDeletedAt) return { kind: 'content_deleted', language: message.language as Language };
  return { kind: 'copy', message, recipient, content: openContent(ctx.cipher, message.id, message.content), language: message.language as Language };
}

/**
 * Records the recipient's first look at the content: `delivered` -> `opened`
 * with an `opened` event (the read receipt). Later looks record nothing; a copy
 * whose notification is not settled yet (still `processing`) is shown but not
 * recorded (the state machine allows `opened` only after `delivered`).
 */
export async function recordOpened(ctx: Pick<CoreContext, 'db'>, copy: { message: MessageRow; recipient: RecipientRow }, detail: Record<string, unknown> = {}): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const result = await transitionRecipients(tx, copy.message.id, PORTAL_ACTOR, (_m, recipients) => {
      const r = recipients.find((x) => x.id === copy.recipient.id);
      if (!r || r.status !== 'delivered' || !canTransition(r.status, 'opened')) return [];
      return [{ recipientId: r.id, to: 'opened', event: { type: EventType.opened, detail: { via: 'portal', ...detail } } }];
    });
    return result.changes.length > 0;
  });
}

/** One attachment of a copy, by position (0-based), decrypted; undefined when there is no such attachment. */
export async function readPortalAttachment(
  ctx: Pick<CoreContext, 'db' | 'cipher'>,
  copy: { message: MessageRow; content: SealedContent },
  index: number,
): Promise<{ filename: string; contentType: string; content: Buffer } | undefined> {
  const meta = copy.content.attachments[index];
  if (!meta) return undefined;
  const row = (await findAttachments(ctx.db, copy.message.id)).find((a) => a.id === meta.id);
  if (!row) return undefined;
  return { filename: meta.filename, contentType: meta.contentType, content: ctx.cipher.open(row.content, attachmentContext(row.id)) };
}
