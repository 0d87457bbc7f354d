import { and, asc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { attachments, events, evidence, type EventRow, type EvidenceRow } from '../schema.ts';

export type NewEvidence = typeof evidence.$inferInsert;

/**
 * Serialises evidence issuing for one message until the transaction ends, so
 * one chain is extended by one worker at a time. An advisory lock, not the
 * message row: deliveries of the same message are not held up meanwhile.
 */
export async function lockMessageEvidence(tx: DbOrTx, messageId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`evidence:${messageId}`}, 0))`);
}

/** The newest link of a message's chain: what the next evidence extends. */
export interface ChainHead {
  sequence: number;
  sha256: Buffer;
}

/**
 * The message's events of the given types that have no evidence yet, oldest
 * first, and the head of its chain, in one round trip (the head rides along
 * each pending row; without pending events it is not needed).
 */
export async function pendingEvidence(tx: DbOrTx, messageId: string, types: readonly string[]): Promise<{ events: EventRow[]; head?: ChainHead }> {
  const rows = await tx
    .select({
      event: events,
      head: sql<{ sequence: number; sha256: string } | null>`(SELECT json_build_object('sequence', h.sequence, 'sha256', encode(h.sha256, 'hex'))
          FROM evidence h WHERE h.message_id = ${messageId} ORDER BY h.sequence DESC LIMIT 1)`,
    })
    .from(events)
    .leftJoin(evidence, eq(evidence.eventId, events.id))
    .where(and(eq(events.messageId, messageId), inArray(events.type, [...types]), isNull(evidence.id)))
    .orderBy(asc(events.id));
  const head = rows[0]?.head;
  return { events: rows.map((r) => r.event), ...(head && { head: { sequence: head.sequence, sha256: Buffer.from(head.sha256, 'hex') } }) };
}

/** Inserts evidence rows and runs `also` (the job's removal) in the same statement, as a data-modifying WITH query. */
export async function insertEvidence(tx: DbOrTx, rows: NewEvidence[], also?: SQL): Promise<void> {
  if (rows.length === 0) {
    if (also) await tx.execute(also);
    return;
  }
  const insert = tx.insert(evidence).values(rows);
  await (also ? tx.execute(sql`WITH also AS (${also}) ${insert.getSQL()}`) : insert);
}

export async function listEvidence(db: DbOrTx, tenantId: string, messageId: string): Promise<EvidenceRow[]> {
  return db
    .select()
    .from(evidence)
    .where(and(eq(evidence.tenantId, tenantId), eq(evidence.messageId, messageId)))
    .orderBy(asc(evidence.sequence));
}

export async function findEvidence(db: DbOrTx, tenantId: string, id: string): Promise<EvidenceRow | undefined> {
  const [row] = await db.select().from(evidence).where(and(eq(evidence.tenantId, tenantId), eq(evidence.id, id)));
  return row;
}

/** What evidence states about a message's attachments: never their (sealed) bytes. */
export async function attachmentDigests(tx: DbOrTx, messageId: string) {
  return tx
    .select({ id: attachments.id, position: attachments.position, sizeBytes: attachments.sizeBytes, sha256: attachments.sha256 })
    .from(attachments)
    .where(eq(attachments.messageId, messageId))
    .orderBy(asc(attachments.position));
}
