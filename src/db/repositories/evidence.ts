import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { fixedStatement } from '../fixed-statement.ts';
import { eventFromJson, messageFromJson, recipientFromJson, type EventJson, type MessageJson, type RecipientJson } from '../row-json.ts';
import { evidence, type EventRow, type EvidenceRow, type MessageRow, type RecipientRow } from '../schema.ts';

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
 * The message, its recipients, its events of `types` still without evidence,
 * the head of its chain and its attachments' digests, in one statement (one
 * snapshot, one round trip); undefined when the message does not exist. The
 * rows beside the message come as JSON arrays, so nothing is repeated per row.
 */
export async function evidenceWork(db: DbOrTx, messageId: string, types: readonly string[]): Promise<EvidenceWork | undefined> {
  const [row] = await selectEvidenceWork(db, { messageId, types: [...types] });
  if (!row) return undefined;
  const { work } = row;
  return {
    message: messageFromJson(work.message),
    recipients: work.recipients.map(recipientFromJson),
    pending: work.pending.map(eventFromJson),
    ...(work.head && { head: { sequence: work.head.sequence, sha256: Buffer.from(work.head.sha256, 'hex') } }),
    attachments: work.attachments.map((a) => ({ id: a.id, position: a.position, sizeBytes: a.size_bytes, sha256: Buffer.from(a.sha256, 'hex') })),
  };
}

const selectEvidenceWork = fixedStatement<
  {
    work: {
      message: MessageJson;
      recipients: RecipientJson[];
      pending: EventJson[];
      head: { sequence: number; sha256: string } | null;
      attachments: Array<{ id: string; position: number; size_bytes: number; sha256: string }>;
    };
  },
  'messageId' | 'types'
>(
  (param) => sql`
    SELECT json_build_object(
             'message', m,
             'recipients', (SELECT coalesce(json_agg(r ORDER BY r.position), '[]'::json) FROM recipients r WHERE r.message_id = m.id),
             'pending', (SELECT coalesce(json_agg(e ORDER BY e.id), '[]'::json) FROM events e
                          WHERE e.message_id = m.id AND e.type = ANY(${param('types')}::text[])
                            AND NOT EXISTS (SELECT 1 FROM evidence v WHERE v.event_id = e.id)),
             'head', (SELECT json_build_object('sequence', h.sequence, 'sha256', encode(h.sha256, 'hex'))
                        FROM evidence h WHERE h.message_id = m.id ORDER BY h.sequence DESC LIMIT 1),
             'attachments', (SELECT coalesce(json_agg(json_build_object('id', a.id, 'position', a.position, 'size_bytes', a.size_bytes,
                                                                        'sha256', encode(a.sha256, 'hex')) ORDER BY a.position), '[]'::json)
                               FROM attachments a WHERE a.message_id = m.id)) AS work
      FROM messages m
     WHERE m.id = ${param('messageId')}`,
);

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
