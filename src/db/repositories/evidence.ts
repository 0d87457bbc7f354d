import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
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

/** The message's events of the given types that have no evidence yet, oldest first. */
export async function eventsWithoutEvidence(tx: DbOrTx, messageId: string, types: readonly string[]): Promise<EventRow[]> {
  const rows = await tx
    .select({ event: events })
    .from(events)
    .leftJoin(evidence, eq(evidence.eventId, events.id))
    .where(and(eq(events.messageId, messageId), inArray(events.type, [...types]), isNull(evidence.id)))
    .orderBy(asc(events.id));
  return rows.map((r) => r.event);
}

export async function lastEvidence(tx: DbOrTx, messageId: string): Promise<EvidenceRow | undefined> {
  const [row] = await tx.select().from(evidence).where(eq(evidence.messageId, messageId)).orderBy(desc(evidence.sequence)).limit(1);
  return row;
}

export async function insertEvidence(tx: DbOrTx, row: NewEvidence): Promise<void> {
  await tx.insert(evidence).values(row);
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
