import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { exited, spawnWorkerProcess } from '../support/worker-process.ts';

/**
 * The promise behind a 202: a worker killed with SIGKILL in the middle of an SMTP
 * hand-over loses nothing. Its jobs come back after the lease; each recipient is
 * delivered once, or twice with the duplicate recorded in the logbook.
 */
describe('a worker process killed mid-delivery', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let auth: string;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer, env: { OUTBOX_LEASE_SECONDS: '2', WORKER_CONCURRENCY: '4' } });
    ({ auth } = await t.tenant());
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('delivers every recipient exactly once or counts the duplicate, never loses one', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { authorization: auth },
        payload: submission({ to: [`crash${i}@example.org`], reference: `crash-${i}` }),
      });
      expect(res.statusCode).toBe(202);
      ids.push(res.json().id);
    }

    // The peer holds every DATA answer, so the child is caught mid-hand-over.
    peer.behaviour.dataDelayMs = 60_000;
    const child = spawnWorkerProcess(t.config);
    const pool = t.runtime.database.pool;
    await expect
      .poll(async () => (await pool.query(`SELECT count(*)::int AS n FROM recipients WHERE status = 'processing'`)).rows[0].n, {
        timeout: 20_000,
        interval: 100,
      })
      .toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300)); // let the DATA transfer get under way
    child.kill('SIGKILL');
    expect(await exited(child)).toBe('SIGKILL');

    peer.behaviour.dataDelayMs = 0;
    await t.startWorker();
    await expect
      .poll(async () => (await pool.query(`SELECT count(*)::int AS n FROM recipients WHERE status <> 'delivered'`)).rows[0].n, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(0);

    // Delivery jobs are all settled; evidence and webhook jobs queued by the deliveries may still be running.
    const { rows: outbox } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'deliver'`);
    expect(outbox[0].n).toBe(0);

    const copies = new Map<string, number>();
    for (const mail of peer.received) {
      const id = (await simpleParser(mail.raw)).messageId!;
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    const { rows: recipients } = await pool.query<{ id: string }>('SELECT id FROM recipients');
    const { rows: duplicates } = await pool.query<{ recipient_id: string }>(
      `SELECT recipient_id FROM events WHERE type = 'lease_expired' AND (detail->>'possibleDuplicate')::boolean`,
    );
    const flagged = new Set(duplicates.map((d) => d.recipient_id));
    expect(recipients).toHaveLength(6);
    for (const { id } of recipients) {
      const n = copies.get(`<${id}@sealpost.test>`) ?? 0;
      expect(n, `copies of recipient ${id}`).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(2);
      // A second copy is only ever one the logbook announced as possible.
      if (n === 2) expect(flagged.has(id)).toBe(true);
    }
    // The killed worker had started at least one hand-over; its re-claim was recorded.
    expect(flagged.size).toBeGreaterThan(0);
  });
});
