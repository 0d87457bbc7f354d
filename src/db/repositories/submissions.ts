import type { Db } from '../client.ts';
import type { AttachmentRow, MessageRow, RecipientRow } from '../schema.ts';
import { OUTBOX_CHANNEL } from '../../outbox/channel.ts';
import { EVIDENCE_GATHER_SECONDS } from '../../outbox/enqueue.ts';

export interface SubmissionGraph {
  message: MessageRow;
  recipients: RecipientRow[];
  attachments: AttachmentRow[];
  event: { type: string; actor: string; detail: Record<string, unknown> };
}

/**
 * Writes a whole submission in ONE statement: the message, its recipients, its
 * attachments, one outbox job per recipient, the logbook event, the job that
 * issues its evidence (SubmissionAcceptance, docs/evidence.md; due
 * EVIDENCE_GATHER_SECONDS later, src/outbox/enqueue.ts), and the NOTIFY
 * that wakes workers on commit. A single statement is atomic without BEGIN and
 * COMMIT, and costs one round trip where six drizzle inserts in a transaction
 * cost eight (bench/README.md has the measurement). Recipients travel as arrays,
 * so the text depends only on the number of attachments (bytea parameters stay
 * binary): one prepared statement per attachment count.
 *
 * The column lists repeat src/db/schema.ts; every submission test runs this
 * statement, so a schema change that breaks it fails the suite.
 */
export async function insertSubmission(db: Db, graph: SubmissionGraph): Promise<void> {
  const { message: m, recipients: r, attachments, event } = graph;
  const values: unknown[] = [
    m.id, m.tenantId, m.status, m.mode, m.fromAddress, m.language, m.reference, m.content, m.sizeBytes, m.submittedBy,
    m.idempotencyKey, m.requestHash, m.createdAt,
    r.map((x) => x.id), r.map((x) => x.position), r.map((x) => x.kind), r.map((x) => x.address), r.map((x) => x.displayName),
    event.type, event.actor, JSON.stringify(event.detail),
  ];
  const attachmentRows = attachments.map((a) => {
    const first = values.push(a.id, a.position, a.sizeBytes, a.sha256, a.content) - 4;
    return `($${first}::uuid, $1::uuid, $${first + 1}::int, $${first + 2}::int, $${first + 3}::bytea, $${first + 4}::bytea)`;
  });
  const text = `
    WITH message AS (
      INSERT INTO messages (id, tenant_id, status, mode, from_address, language, reference, content, size_bytes,
                            submitted_by, idempotency_key, request_hash, created_at, updated_at)
      VALUES ($1::uuid, $2::uuid, $3::message_status, $4::message_mode, $5, $6, $7, $8::bytea, $9::int,
              $10, $11, $12::bytea, $13::timestamptz, $13::timestamptz)
    ), recipient AS (
      INSERT INTO recipients (id, message_id, tenant_id, position, kind, address, display_name, status, updated_at)
      SELECT id, $1::uuid, $2::uuid, position, kind, address, display_name, 'accepted', $13::timestamptz
        FROM unnest($14::uuid[], $15::int[], $16::recipient_kind[], $17::text[], $18::text[])
             AS t(id, position, kind, address, display_name)
      RETURNING id
    ),${attachmentRows.length > 0 ? `
    attachment AS (
      INSERT INTO attachments (id, message_id, position, size_bytes, sha256, content)
      VALUES ${attachmentRows.join(', ')}
    ),` : ''}
    job AS (
      INSERT INTO outbox (recipient_id, message_id) SELECT id, $1::uuid FROM recipient
    ), event AS (
      INSERT INTO events (tenant_id, message_id, type, actor, detail) VALUES ($2::uuid, $1::uuid, $19, $20, $21::jsonb)
    ), evidence_job AS (
      INSERT INTO outbox (kind, message_id, run_at) VALUES ('evidence', $1::uuid, now() + make_interval(secs => ${EVIDENCE_GATHER_SECONDS}))
    )
    SELECT pg_notify('${OUTBOX_CHANNEL}', '')`;
  await db.$client.query({ name: `sealpost_insert_submission_${attachments.length}`, text, values });
}
