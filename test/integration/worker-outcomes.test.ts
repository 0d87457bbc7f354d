import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { freePort } from '../support/global-setup.ts';

let peer: SmtpPeer | undefined;
let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  await peer?.close();
  t = undefined;
  peer = undefined;
});

async function setup(env: Record<string, string> = {}, options: { smtpUrl?: string } = {}) {
  peer = await startSmtpPeer();
  t = await createTestApp({ smtp: peer, env: { ...env, ...(options.smtpUrl && { SMTP_URL: options.smtpUrl }) } });
  const { auth } = await t.tenant();
  return { t, peer, auth };
}

async function submit(app: TestApp, auth: string, overrides: Record<string, unknown>) {
  const res = await app.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission(overrides) });
  expect(res.statusCode, res.body).toBe(202);
  return res.json() as { id: string; recipients: Array<{ id: string; address: string }> };
}

async function settledMessage(app: TestApp, auth: string, id: string, status: string) {
  await expect
    .poll(async () => (await app.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: auth } })).json().status, {
      timeout: 20_000,
      interval: 150,
    })
    .toBe(status);
  return (await app.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: auth } })).json();
}

async function eventsOf(app: TestApp, auth: string, id: string): Promise<Array<{ type: string; recipientId: string | null; detail: Record<string, unknown> }>> {
  return (await app.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: auth } })).json().items;
}

describe('delivery outcomes', () => {
  it('retries a 4xx with backoff, fails a 5xx for good, and summarises the message as partially delivered', async () => {
    const { t, peer, auth } = await setup();
    let refusals = 0;
    peer.behaviour.rcpt = (address) => {
      if (address === 'gone@example.org') return { code: 550, message: '5.1.1 mailbox unavailable' };
      if (address === 'busy@example.org' && refusals++ < 2) return { code: 451, message: '4.3.0 try again later' };
      return undefined;
    };
    await t.startWorker();
    const message = await submit(t, auth, { to: ['busy@example.org', 'gone@example.org'] });
    const settled = await settledMessage(t, auth, message.id, 'partially_delivered');

    const busy = settled.recipients.find((r: { address: string }) => r.address === 'busy@example.org');
    const gone = settled.recipients.find((r: { address: string }) => r.address === 'gone@example.org');
    expect(busy).toMatchObject({ status: 'delivered', attempts: 3, lastError: null });
    expect(gone.status).toBe('failed');
    expect(gone.attempts).toBe(1);
    expect(gone.lastError).toMatch(/550/);

    const events = await eventsOf(t, auth, message.id);
    const retries = events.filter((e) => e.type === 'retry_scheduled');
    expect(retries).toHaveLength(2);
    expect(retries.every((e) => e.recipientId === busy.id && e.detail.responseCode === 451)).toBe(true);
    expect(retries.every((e) => typeof e.detail.retryInSeconds === 'number' && (e.detail.retryInSeconds as number) >= 1)).toBe(true);
    const failed = events.find((e) => e.type === 'failed');
    expect(failed).toMatchObject({ recipientId: gone.id, detail: { responseCode: 550, permanent: true } });
    expect(peer.received.map((m) => m.to[0])).toEqual(['busy@example.org']);
  });

  it('gives up on temporary failures once the retry window has passed', async () => {
    const { t, auth } = await setup({ RETRY_WINDOW_SECONDS: '2' });
    peer!.behaviour.rcpt = () => ({ code: 452, message: '4.2.2 mailbox full' });
    await t.startWorker();
    const message = await submit(t, auth, {});
    const settled = await settledMessage(t, auth, message.id, 'failed');
    expect(settled.recipients[0].attempts).toBeGreaterThanOrEqual(2);
    const failed = (await eventsOf(t, auth, message.id)).find((e) => e.type === 'failed');
    expect(failed?.detail).toMatchObject({ permanent: false, responseCode: 452 });
  });

  it('treats an unreachable relay as temporary and keeps the job queued', async () => {
    const { t, auth } = await setup({}, { smtpUrl: `smtp://127.0.0.1:${await freePort()}` });
    await t.startWorker();
    const message = await submit(t, auth, {});
    await settledMessage(t, auth, message.id, 'retrying');
    const retry = (await eventsOf(t, auth, message.id)).find((e) => e.type === 'retry_scheduled');
    expect(retry?.detail.code).toMatch(/^E[A-Z]+$/);
    const { rows } = await t.runtime.database.pool.query("SELECT locked_by, run_at > now() AS later FROM outbox WHERE kind = 'deliver'");
    expect(rows).toEqual([{ locked_by: null, later: true }]);
  });

  it('never sends a message cancelled before a worker took it', async () => {
    const { t, peer, auth } = await setup();
    const cancelled = await submit(t, auth, { to: ['withdrawn@example.org'] });
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/messages/${cancelled.id}`, headers: { authorization: auth } });
    expect(res.json().status).toBe('cancelled');
    const kept = await submit(t, auth, { to: ['kept@example.org'] });
    await t.startWorker();
    await settledMessage(t, auth, kept.id, 'delivered');
    expect(peer.received.map((m) => m.to[0])).toEqual(['kept@example.org']);
    expect((await eventsOf(t, auth, cancelled.id)).map((e) => e.type)).toEqual(['submitted', 'cancelled']);
  });

  it('finishes the hand-over in flight when the worker stops gracefully', async () => {
    const { t, peer, auth } = await setup({ SHUTDOWN_GRACE_MS: '10000' });
    peer.behaviour.dataDelayMs = 1500;
    await t.startWorker();
    const message = await submit(t, auth, {});
    const pool = t.runtime.database.pool;
    await expect.poll(async () => (await pool.query(`SELECT status FROM recipients`)).rows[0].status, { timeout: 10_000, interval: 50 }).toBe('processing');
    await t.stopWorker();
    expect(peer.received).toHaveLength(1);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM outbox WHERE kind = 'deliver'");
    expect(rows[0].n).toBe(0);
    await settledMessage(t, auth, message.id, 'delivered');
  });
});
