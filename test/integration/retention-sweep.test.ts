import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpiredContent, scheduleRetentionSweep } from '../../src/core/retention.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { portalLinkOf } from './portal-links.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Retention with a tiny period (RETENTION_DAYS=0.00002, about 1.7 s): the sweep
 * empties delivered messages' content and keeps metadata, logbook, evidence and
 * digests; messages still being delivered or awaiting a registered decision stay whole.
 */
describe('retention: content emptied after the period, the record kept', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    // A recipient the peer defers for ever: its message stays pending (retrying) throughout.
    peer.behaviour.rcpt = (address) => (address.startsWith('later@') ? { code: 451, message: '4.3.0 try again later' } : undefined);
    t = await createTestApp({
      smtp: peer,
      env: { RETENTION_DAYS: '0.00002', RETENTION_SWEEP_INTERVAL_SECONDS: '1', RETENTION_BATCH_SIZE: '2' },
    });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  const submit = async (overrides: Record<string, unknown>) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission(overrides) });
    expect(res.statusCode, res.body).toBe(202);
    return res.json().id as string;
  };
  const view = async (id: string) => (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: tenant.auth } })).json();
  const rows = async (id: string) => {
    const db = t.runtime.database.pool;
    const message = (await db.query('SELECT octet_length(content) AS content, content_deleted_at FROM messages WHERE id = $1', [id])).rows[0];
    const attachments = (await db.query('SELECT octet_length(content) AS content, size_bytes, encode(sha256, \'hex\') AS sha256 FROM attachments WHERE message_id = $1', [id])).rows;
    const events = (await db.query('SELECT type FROM events WHERE message_id = $1 ORDER BY id', [id])).rows.map((r) => r.type as string);
    const evidence = (await db.query('SELECT count(*)::int AS n FROM evidence WHERE message_id = $1', [id])).rows[0].n as number;
    return { message, attachments, events, evidence };
  };

  it('empties delivered messages in bounded batches, keeps pending and undecided registered ones', async () => {
    const done = [await submit({ to: ['a@example.org'] }), await submit({ to: ['b@example.org'] }), await submit({ to: ['c@example.org'] })];
    const pending = await submit({ to: ['later@example.org'] });
    const registered = await submit({ to: ['reg@example.org'], mode: 'registered' });
    const before = await rows(done[0]!);
    expect(before.message.content).toBeGreaterThan(0);
    expect(before.attachments[0].content).toBeGreaterThan(2048);

    await t.startWorker();
    await waitFor(async () => (await Promise.all(done.map(view))).every((m) => m.contentDeleted === true));

    for (const id of done) {
      const after = await rows(id);
      expect(after.message.content).toBe(0);
      expect(after.message.content_deleted_at).toBeInstanceOf(Date);
      expect(after.attachments).toHaveLength(1);
      expect(after.attachments[0]).toEqual({ content: 0, size_bytes: before.attachments[0].size_bytes, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(after.events).toEqual(['submitted', 'processing', 'delivered']);
      expect(after.evidence).toBeGreaterThan(0);
      const shown = await view(id);
      expect(shown).toMatchObject({ status: 'delivered', contentDeleted: true, recipients: [{ status: 'delivered' }] });
      expect(new Date(shown.contentDeletedAt).getTime()).toBeGreaterThan(0);
      const events = await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: tenant.auth } });
      expect(events.json().items).toHaveLength(3);
      const proofs = await t.app.inject({ url: `/v1/messages/${id}/proofs`, headers: { authorization: tenant.auth } });
      expect(proofs.statusCode).toBe(200);
      expect(proofs.json().items.length).toBe(after.evidence);
    }
    // The recipient's link now says the content is gone (410), in the message's language; nothing is unsealed.
    const mail = peer.received.find((m) => m.to.includes('a@example.org'))!;
    const { token } = await portalLinkOf(mail);
    for (const url of [`/r/${token}`, `/r/${token}/message`, `/r/${token}/attachments/0`]) {
      const gone = await t.app.inject({ url });
      expect(gone.statusCode, url).toBe(410);
      expect(gone.headers['content-type']).toMatch(/^text\/html/);
      expect(gone.body).toContain('retention');
    }

    // The digest the evidence names survives retention unchanged.
    expect((await rows(done[0]!)).attachments[0].sha256).toBe(before.attachments[0].sha256);

    // Pending (retrying) and registered awaiting a decision: whole, however old.
    expect((await view(pending)).status).toBe('retrying');
    expect((await view(registered)).recipients[0].status).toBe('delivered');
    for (const id of [pending, registered]) {
      const kept = await rows(id);
      expect(kept.message.content_deleted_at).toBeNull();
      expect(kept.message.content).toBeGreaterThan(0);
      expect(kept.attachments[0].content).toBeGreaterThan(2048);
      expect((await view(id)).contentDeleted).toBe(false);
    }
    // One sweep job, re-queued, not piling up.
    const jobs = await t.runtime.database.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'retention'`);
    expect(jobs.rows[0].n).toBe(1);
  });

  it('purges at most the batch size per run, oldest first, and only once', async () => {
    await t.stopWorker();
    const ids = [await submit({ to: ['d@example.org'] }), await submit({ to: ['e@example.org'] })];
    // Settled by hand (as if delivered long ago): no outbox job, recipients delivered.
    const db = t.runtime.database.pool;
    await db.query(`DELETE FROM outbox WHERE message_id = ANY($1::uuid[]) OR recipient_id IN (SELECT id FROM recipients WHERE message_id = ANY($1::uuid[]))`, [ids]);
    await db.query(`UPDATE recipients SET status = 'delivered' WHERE message_id = ANY($1::uuid[])`, [ids]);
    const cutoff = new Date(Date.now() + 60_000);
    expect(await purgeExpiredContent(t.runtime.database.db, cutoff, 1)).toEqual({ messages: 1, attachments: 1, bytes: expect.any(Number) });
    expect((await rows(ids[0]!)).message.content_deleted_at).toBeInstanceOf(Date);
    expect((await rows(ids[1]!)).message.content_deleted_at).toBeNull();
    expect((await purgeExpiredContent(t.runtime.database.db, cutoff, 10)).messages).toBe(1);
    expect((await purgeExpiredContent(t.runtime.database.db, cutoff, 10)).messages).toBe(0);
  });

  it('keeps a single sweep job when many workers start at once', async () => {
    await Promise.all(Array.from({ length: 6 }, () => scheduleRetentionSweep(t.runtime.database.db)));
    const jobs = await t.runtime.database.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'retention'`);
    expect(jobs.rows[0].n).toBe(1);
  });
});
