import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { connectDatabase, type Database, type Db } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { completeJob } from '../../src/outbox/complete.ts';
import { enqueueJob } from '../../src/outbox/enqueue.ts';
import type { ClaimedJob } from '../../src/outbox/claim.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { untouchedKinds } from '../support/job-handlers.ts';

const log = createLogger('silent');
let database: TestDatabase;
let connection: Database;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  connection = connectDatabase(database.url, 4);
  db = connection.db;
});

afterAll(async () => {
  await connection.close();
  await database.drop();
});

const rows = async () =>
  (await db.execute<{ kind: string; payload: Record<string, unknown>; due_in: number; locked_by: string | null }>(sql`
    SELECT kind, payload, extract(epoch FROM run_at - now())::float8 AS due_in, locked_by FROM outbox ORDER BY id`)).rows;

describe('outbox job kinds', () => {
  it('runs each job through the handler of its kind, with its payload', async () => {
    await db.execute(sql`DELETE FROM outbox`);
    await enqueueJob(db, { kind: 'deliver', payload: { note: 'first' } });
    const seen: ClaimedJob[] = [];
    const worker = startWorker(
      {
        ...untouchedKinds(),
        deliver: async (job) => {
          seen.push(job);
          await completeJob(db, job.id);
          return 'done';
        },
        evidence: async () => 'done',
      },
      { db, databaseUrl: database.url, concurrency: 2, pollIntervalMs: 50, leaseSeconds: 30, shutdownGraceMs: 1000, log },
    );
    try {
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
      expect(seen[0]).toMatchObject({ kind: 'deliver', payload: { note: 'first' }, messageId: null, recipientId: null, attempts: 1 });
      await expect.poll(async () => (await rows()).length).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('leaves a job of a kind this version does not know for a later worker, without losing it', async () => {
    await db.execute(sql`DELETE FROM outbox`);
    await db.execute(sql`INSERT INTO outbox (kind, payload) VALUES ('from_a_newer_version', '{"x": 1}')`);
    const worker = startWorker(
      { ...untouchedKinds(), deliver: async () => 'done', evidence: async () => 'done' },
      { db, databaseUrl: database.url, concurrency: 1, pollIntervalMs: 50, leaseSeconds: 30, shutdownGraceMs: 1000, log },
    );
    try {
      await expect.poll(async () => (await rows())[0]?.due_in ?? 0, { timeout: 10_000 }).toBeGreaterThan(200);
      const [row] = await rows();
      expect(row).toMatchObject({ kind: 'from_a_newer_version', payload: { x: 1 } });
    } finally {
      await worker.stop();
    }
  });

  it('keeps one job per kind and recipient however often it is queued, and a delayed job is not due yet', async () => {
    await db.execute(sql`DELETE FROM outbox`);
    const recipient = await aRecipient();
    await enqueueJob(db, { kind: 'deliver', ...recipient, delaySeconds: 3600 });
    await enqueueJob(db, { kind: 'deliver', ...recipient, delaySeconds: 3600 });
    const queued = await rows();
    expect(queued).toHaveLength(1);
    expect(queued[0]!.due_in).toBeGreaterThan(3500);
  });
});

/** A message with one recipient, inserted directly: these tests are about the queue, not submission. */
async function aRecipient(): Promise<{ messageId: string; recipientId: string }> {
  const result = await db.execute<{ message_id: string; recipient_id: string }>(sql`
    WITH tenant AS (
      INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'queue test') RETURNING id
    ), message AS (
      INSERT INTO messages (id, tenant_id, status, mode, from_address, language, content, size_bytes, submitted_by)
      SELECT gen_random_uuid(), id, 'accepted', 'confidential', 'a@example.org', 'en', '\\x00'::bytea, 1, 'test' FROM tenant
      RETURNING id, tenant_id
    )
    INSERT INTO recipients (id, message_id, tenant_id, position, kind, address, status)
    SELECT gen_random_uuid(), id, tenant_id, 0, 'to', 'b@example.org', 'accepted' FROM message
    RETURNING message_id, id AS recipient_id`);
  const row = result.rows[0]!;
  return { messageId: row.message_id, recipientId: row.recipient_id };
}
