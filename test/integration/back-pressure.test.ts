import { afterEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { credentialsOf, envelope, faultOf, operation, soapPost } from '../support/soap.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

let t: TestApp | undefined;
let peer: SmtpPeer | undefined;
afterEach(async () => {
  await t?.close();
  await peer?.close();
  t = undefined;
  peer = undefined;
});

const soapSubmission = (token: string) =>
  envelope(operation('SubmitMessage', { from: 'payroll@example.com', to: { address: 'anna@example.org' }, subject: 'Payslip', text: 'Attached.' }), credentialsOf(token));

async function dueJobs(t: TestApp): Promise<number> {
  const { rows } = await t.runtime.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE run_at <= now() AND (locked_until IS NULL OR locked_until < now())');
  return rows[0]!.n;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('back-pressure on submissions', () => {
  it('refuses new submissions on both doors with 503 overloaded while the outbox lags, keeps serving reads, and recovers when it drains', async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer, env: { OVERLOAD_MAX_DUE_JOBS: '2', OVERLOAD_CHECK_INTERVAL_MS: '50' } });
    const { auth, token } = await t.tenant();
    const post = () => t!.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission() });

    // No worker runs: every accepted message leaves due jobs behind until the limit is passed.
    expect((await post()).statusCode).toBe(202);
    let refused;
    for (let i = 0; i < 5 && !refused; i += 1) {
      await pause(60); // past the check interval: the next submission sees a fresh reading
      const res = await post();
      if (res.statusCode === 503) refused = res;
      else expect(res.statusCode, res.body).toBe(202);
    }
    expect(refused, 'no 503 after the due jobs passed the limit').toBeDefined();
    expect(refused!.json()).toMatchObject({ code: 'overloaded', details: { reason: 'outbox_due_jobs' } });
    expect(refused!.headers['retry-after']).toBe('30');
    expect(await dueJobs(t)).toBeGreaterThan(2);
    const stored = (await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages')).rows[0].n;

    const soap = await soapPost(t.app, soapSubmission(token));
    expect(faultOf(soap)).toMatchObject({ faultcode: 'soap:Server', code: 'overloaded' });
    expect(soap.headers['retry-after']).toBe('30');
    expect((await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(stored);

    // Reads go on.
    expect((await t.app.inject({ url: '/v1/messages', headers: { authorization: auth } })).statusCode).toBe(200);
    const list = await soapPost(t.app, envelope(operation('ListMessages'), credentialsOf(token)));
    expect(list.statusCode, list.body).toBe(200);

    // A worker drains the outbox; submissions are taken again on both doors.
    await t.startWorker();
    for (let i = 0; i < 200 && (await dueJobs(t)) > 2; i += 1) await pause(100);
    expect(await dueJobs(t)).toBeLessThanOrEqual(2);
    await pause(60);
    expect((await post()).statusCode).toBe(202);
    const again = await soapPost(t.app, soapSubmission(token));
    expect(again.statusCode, again.body).toBe(200);
  });

  it('refuses submissions at once while too many requests wait for a database connection, before authenticating them', async () => {
    t = await createTestApp({ env: { OVERLOAD_MAX_DB_WAITING: '1' } });
    const { auth, token } = await t.tenant();
    const pool = t.runtime.database.pool;
    // Take every connection of the pool (DATABASE_POOL_SIZE is 8 in tests), then queue two queries behind them.
    const held: pg.PoolClient[] = await Promise.all(Array.from({ length: 8 }, () => pool.connect()));
    const queued = [pool.query('SELECT 1'), pool.query('SELECT 1')];
    try {
      expect(pool.waitingCount).toBe(2);
      const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission() });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'overloaded', details: { reason: 'database_waiting' } });
      expect(res.headers['retry-after']).toBe('2');
      const soap = await soapPost(t.app, soapSubmission(token));
      expect(faultOf(soap)).toMatchObject({ faultcode: 'soap:Server', code: 'overloaded' });
      expect((await t.app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      for (const client of held) client.release();
      await Promise.all(queued);
    }
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission() });
    expect(res.statusCode, res.body).toBe(202);
    expect((await pool.query('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(1);
  });
});
