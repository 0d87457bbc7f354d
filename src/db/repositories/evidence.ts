import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../client.ts';
import { evidence, messages, type EventRow, type EvidenceRow, type MessageRow, type RecipientRow } from '../schema.ts';
import { eventFromJson, recipientFromJson, type EventJson, type RecipientJson } from '../row-json.ts';

export type NewEvidence = typeof evidence.$inferInsert;

/** The newest link of a message's chain: what the next evidence extends. */
export interface ChainHead {
  sequence: number;
  sha256: Buffer;
}

/** Everything an evidence job needs about one message, as of one snapshot. */
export interface EvidenceWork {
  message: MessageRow;
  /** Position order. */
  recipients: RecipientRow[];
  /** The message's events of the asked types that have no evidence yet, oldest first. */
  pending: EventRow[];
  /** The newest link of the message's chain; absent before the first. */
  head?: ChainHead;
  /** What evidence states about the attachments (position order): never their sealed bytes. */
  attachments: Array<{ id: string; position: number; sizeBytes: number; sha256: Buffer }>;
}

/**
 * evidenceWork's statement, built once per database handle (it runs twice per
 * delivered copy). Unnamed: src/db/prepared-client.ts names it by its text,
 * unless DATABASE_PREPARED_STATEMENTS=off.
 */
const evidenceWorkQueries = new WeakMap<Db, ReturnType<typeof buildEvidenceWorkQuery>>();
const evidenceWorkQuery = (db: Db) => evidenceWorkQueries.get(db) ?? evidenceWorkQueries.set(db, buildEvidenceWorkQuery(db)).get(db)!;

const buildEvidenceWorkQuery = (db: Db) =>
  db
    .select({
      message: messages,
      // Spelled out with aliases: drizzle writes a column of a one-table query unqualified.
      recipients: sql<RecipientJson[]>`(SELECT coalesce(json_agg(r ORDER BY r.position), '[]'::json) FROM recipients r WHERE r.message_id = messages.id)`,
      pending: sql<EventJson[]>`(SELECT coalesce(json_agg(e ORDER BY e.id), '[]'::json) FROM events e
          WHERE e.message_id = messages.id AND e.type = ANY(${sql.placeholder('types')}::text[])
            AND NOT EXISTS (SELECT 1 FROM evidence v WHERE v.event_id = e.id))`,
      head: sql<{ sequence: number; sha256: string } | null>`(SELECT json_build_object('sequence', h.sequence, 'sha256', encode(h.sha256, 'hex'))
          FROM evidence h WHERE h.message_id = messages.id ORDER BY h.sequence DESC LIMIT 1)`,
      attachments: sql<Array<{ id: string; position: number; size_bytes: number; sha256: string }>>`(SELECT coalesce(json_agg(
            json_build_object('id', a.id, 'position', a.position, 'size_bytes', a.size_bytes, 'sha256', encode(a.sha256, 'hex'))
            ORDER BY a.position), '[]'::json) FROM attachments a WHERE a.message_id = messages.id)`,
    })
    .from(messages)
    .where(eq(messages.id, sql.placeholder('messageId')))
    .prepare('');

/**
 * The message, its recipients, its events of `types` still without evidence,
 * the head of its chain and its attachments' digests, in one statement (one
 * snapshot, one round trip); undefined when the message does not exist. The
 * rows beside the message come as JSON arrays, so nothing is repeated per row.
 */
export async function evidenceWork(db: Db, messageId: string, types: readonly string[]): Promise<EvidenceWork | undefined> {
  const [row] = await evidenceWorkQuery(db).execute({ messageId, types: [...types] });
  if (!row) return undefined;
  return {
    message: row.message,
    recipients: row.recipients.map(recipientFromJson),
    pending: row.pending.map(eventFromJson),
    ...(row.head && { head: { sequence: row.head.sequence, sha256: Buffer.from(row.head.sha256, 'hex') } }),
    attachments: row.attachments.map((a) => ({ id: a.id, position: a.position, sizeBytes: a.size_bytes, sha256: Buffer.from(a.sha256, 'hex') })),
  };
}

/**
 * Inserts the new links of a message's chain and runs `also` (the job's
 * removal, receipt jobs) in the same statement, as data-modifying WITH queries.
 * The unique indexes on (message_id, sequence) and event_id make a concurrent
 * issuer's statement fail as a whole (see isChainConflict): a chain is never
 * forked and an event never gets two proofs.
 */
export async function insertEvidence(db: DbOrTx, rows: NewEvidence[], also: SQL[] = []): Promise<void> {
  const withs = also.map((statement, i) => sql`${sql.raw(i === 0 ? 'WITH' : ',')} ${sql.raw(`also_${i}`)} AS (${statement}) `);
  if (rows.length === 0) {
    if (also.length > 0) await db.execute(sql`${sql.join(withs)}SELECT 1`);
    return;
  }
  await db.execute(sql`${sql.join(withs)}${db.insert(evidence).values(rows).getSQL()}`);
}

/** The error of insertEvidence when another worker extended the chain, or issued one of the events, first. */
export function isChainConflict(error: unknown): boolean {
  for (let e = error as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '23505') return e.constraint === 'evidence_event_idx' || e.constraint === 'evidence_message_sequence_idx';
  }
  return false;
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
