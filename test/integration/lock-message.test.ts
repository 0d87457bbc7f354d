import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttachments, findRecipients, lockMessageWithRecipients } from '../../src/db/repositories/messages.ts';
import { attachments, messages } from '../../src/db/schema.ts';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';

/**
 * src/db/repositories/messages.ts: what sealpost_lock_message hands over as JSON,
 * and the attachments read through binary COPY, are the rows drizzle's
 * own queries read (bytes, timestamps, nulls); the lock belongs to the caller's
 * transaction.
 */
describe('lockMessageWithRecipients and findAttachments', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({});
  });
  afterAll(async () => {
    await t?.close();
  });

  const submit = async (payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth, ...headers }, payload });
    expect(res.statusCode, res.body).toBe(202);
    return (res.json() as { id: string }).id;
  };

  const asDrizzleReadsIt = async (id: string) => {
    const { db } = t.runtime.database;
    const [message] = await db.select().from(messages).where(eq(messages.id, id));
    return { message, recipients: await findRecipients(db, [id]) };
  };

  it('returns the message and its recipients as drizzle reads them, every column set', async () => {
    const id = await submit(
      submission({ to: [{ address: 'anna@example.org', name: 'Anna Muster' }, 'ben@example.org'], cc: ['carl@example.org'], reference: 'PAY-2026-11' }),
      { 'idempotency-key': `k-${randomUUID()}` },
    );
    const { db } = t.runtime.database;
    // Columns a submission leaves empty, as later stages fill them (microseconds included: JSON and drizzle must both keep milliseconds).
    await db.execute(sql`UPDATE recipients SET status = 'delivered', attempts = 2, last_error = '452 mailbox full', delivered_at = '2026-11-23T10:11:12.345678+00' WHERE message_id = ${id} AND position = 1`);
    await db.execute(sql`UPDATE messages SET content_deleted_at = '2026-11-24T01:02:03.999999+00' WHERE id = ${id}`);
    const expected = await asDrizzleReadsIt(id);
    expect(expected.message?.requestHash).toBeInstanceOf(Buffer);
    expect(expected.recipients.map((r) => r.kind)).toEqual(['to', 'to', 'cc']);

    const locked = await db.transaction((tx) => lockMessageWithRecipients(tx, id));
    expect(locked).toEqual(expected);
    expect(locked!.message.content.equals(expected.message!.content)).toBe(true);
    expect(locked!.recipients[1]!.deliveredAt?.toISOString()).toBe('2026-11-23T10:11:12.345Z');
    expect(locked!.message.contentDeletedAt?.toISOString()).toBe('2026-11-24T01:02:03.999Z');
  });

  it('returns the nullable columns as null when they are', async () => {
    const id = await submit(submission());
    await t.runtime.database.db.execute(sql`UPDATE messages SET request_hash = NULL WHERE id = ${id}`);
    const expected = await asDrizzleReadsIt(id);
    expect(expected.message).toMatchObject({ reference: null, idempotencyKey: null, requestHash: null, contentDeletedAt: null });
    expect(await t.runtime.database.db.transaction((tx) => lockMessageWithRecipients(tx, id))).toEqual(expected);
  });

  it('answers undefined for a message that does not exist', async () => {
    expect(await t.runtime.database.db.transaction((tx) => lockMessageWithRecipients(tx, randomUUID()))).toBeUndefined();
  });

  it("holds the lock in the caller's transaction until it ends", async () => {
    const id = await submit(submission());
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    const tryLock = () => other.query('SELECT 1 FROM messages WHERE id = $1 FOR UPDATE NOWAIT', [id]);
    try {
      await t.runtime.database.db.transaction(async (tx) => {
        await lockMessageWithRecipients(tx, id);
        await expect(tryLock()).rejects.toMatchObject({ code: '55P03' }); // lock_not_available
      });
      expect((await tryLock()).rowCount).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('finds the attachments, in position order, as drizzle reads them', async () => {
    const files = [pdfLike(3000), pdfLike(5000)].map((bytes, i) => ({ filename: `f${i}.pdf`, contentType: 'application/pdf', content: bytes.toString('base64') }));
    const id = await submit(submission({ attachments: files }));
    const { db } = t.runtime.database;
    const expected = await db.select().from(attachments).where(eq(attachments.messageId, id)).orderBy(attachments.position);
    expect(expected.map((a) => a.position)).toEqual([0, 1]);
    expect(await findAttachments(db, id)).toEqual(expected);
    expect(await db.transaction((tx) => findAttachments(tx, id))).toEqual(expected);
    expect(await findAttachments(db, randomUUID())).toEqual([]);
    await expect(findAttachments(db, `${id}' OR true --`)).rejects.toThrow(/not a uuid/);
  });
});
