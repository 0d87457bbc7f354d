import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { freePort } from '../support/local.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { portalLinkOf } from './portal-links.ts';
import { waitFor } from '../support/wait.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A webhook receiver on loopback: records every POST; answers each path with
 * the statuses queued for it, then 200.
 */
async function startReceiver(): Promise<{ url: string; received: Received[]; answers: Map<string, number[]>; close(): Promise<void> }> {
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answers.get(path)?.shift() ?? 200;
      res.end('{"ok":true}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, received, answers, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** What a receiver does (docs/webhooks.md): recompute the HMAC over "t.body" with the secret, compare in constant time. */
function verifySignature(header: string, body: string, secret: string): { valid: boolean; timestamp: number } {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return { valid: given.length === expected.length && timingSafeEqual(given, expected), timestamp: Number(parts.t) };
}

describe('webhooks: signed POSTs of receipts and outcomes, retried, attempts visible', () => {
  let peer: SmtpPeer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let t: TestApp;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    receiver = await startReceiver();
    // Backoff 1-2 s (test app), a 6 s window: an unreachable receiver is given up within the test.
    t = await createTestApp({ smtp: peer, env: { WEBHOOK_RETRY_WINDOW_SECONDS: '6', WEBHOOK_TIMEOUT_MS: '2000' } });
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await peer?.close();
  });

  /** A tenant with a submitter key and an admin key, its webhook at `url`; returns the secret. */
  const tenantWithWebhook = async (url: string) => {
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const admin = await t.key(tenant.tenantId, 'admin');
    const res = await t.app.inject({ method: 'PUT', url: '/v1/webhook', headers: { authorization: admin }, payload: { url } });
    expect(res.statusCode, res.body).toBe(201);
    return { ...tenant, admin, secret: res.json().secret as string };
  };
  const submit = async (auth: string, to: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission({ to: [to] }) });
    expect(res.statusCode, res.body).toBe(202);
    return res.json() as { id: string; recipients: Array<{ id: string }> };
  };
  const deliveries = async (admin: string, messageId: string) => {
    const res = await t.app.inject({ url: `/v1/webhook/deliveries?messageId=${messageId}`, headers: { authorization: admin } });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().items as Array<{ eventType: string; outcome: string; statusCode: number | null; error: string | null; attempt: number; eventId: string }>).reverse();
  };

  it('POSTs delivered and opened with a valid signature, event id header and no content', async () => {
    const tenant = await tenantWithWebhook(`${receiver.url}/hooks/a`);
    expect(tenant.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const message = await submit(tenant.auth, 'anna@example.org');
    const forMessage = () => receiver.received.filter((r) => r.path === '/hooks/a' && JSON.parse(r.body).messageId === message.id);
    await waitFor(() => forMessage().some((r) => JSON.parse(r.body).type === 'delivered'));

    const { url } = await portalLinkOf(await peer.mailTo('anna@example.org'));
    // "Open message" (a POST: the link's GET records nothing, docs/modes.md).
    expect((await t.app.inject({ method: 'POST', url: `${new URL(url).pathname}/open` })).statusCode).toBe(303);
    await waitFor(() => forMessage().some((r) => JSON.parse(r.body).type === 'opened'));

    for (const request of forMessage()) {
      expect(request.headers['content-type']).toBe('application/json');
      const { valid, timestamp } = verifySignature(String(request.headers['sealpost-signature']), request.body, tenant.secret);
      expect(valid).toBe(true);
      expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
      // A tampered body or another secret does not verify.
      expect(verifySignature(String(request.headers['sealpost-signature']), request.body.replace('anna', 'anne'), tenant.secret).valid).toBe(false);
      expect(verifySignature(String(request.headers['sealpost-signature']), request.body, 'whsec_other').valid).toBe(false);
      const body = JSON.parse(request.body);
      expect(request.headers['sealpost-event-id']).toBe(body.id);
      expect(body).toMatchObject({ messageId: message.id, recipientId: message.recipients[0]!.id, address: 'anna@example.org' });
      expect(Object.keys(body).sort()).toEqual(['address', 'detail', 'id', 'messageId', 'occurredAt', 'recipientId', 'reference', 'type']);
      expect(request.body).not.toContain('Payslip');
      expect(request.body).not.toContain('Dear Anna');
      expect(request.body).not.toContain('payslip-2026-11.pdf');
    }
    const delivered = JSON.parse(forMessage().find((r) => JSON.parse(r.body).type === 'delivered')!.body);
    expect(delivered.detail).toEqual({ route: 'portal', attempt: 1 });
    const opened = JSON.parse(forMessage().find((r) => JSON.parse(r.body).type === 'opened')!.body);
    expect(opened.detail).toEqual({ via: 'portal' });

    // The ids are the logbook's.
    const events = (await t.app.inject({ url: `/v1/messages/${message.id}/events`, headers: { authorization: tenant.auth } })).json().items;
    expect(forMessage().map((r) => JSON.parse(r.body).id).sort()).toEqual(
      events.filter((e: { type: string }) => e.type === 'delivered' || e.type === 'opened').map((e: { id: number }) => String(e.id)).sort(),
    );
    const attempts = await deliveries(tenant.admin, message.id);
    expect(attempts.map((a) => [a.eventType, a.outcome, a.statusCode])).toEqual([
      ['delivered', 'delivered', 200],
      ['opened', 'delivered', 200],
    ]);
  });

  it('retries a receiver that answers 500, and the retry carries the same event id', async () => {
    const tenant = await tenantWithWebhook(`${receiver.url}/hooks/flaky`);
    receiver.answers.set('/hooks/flaky', [500]);
    const message = await submit(tenant.auth, 'bruno@example.org');
    await waitFor(async () => (await deliveries(tenant.admin, message.id)).some((a) => a.outcome === 'delivered'));
    const attempts = await deliveries(tenant.admin, message.id);
    expect(attempts.map((a) => [a.eventType, a.outcome, a.statusCode, a.error])).toEqual([
      ['delivered', 'retrying', 500, 'HTTP 500'],
      ['delivered', 'delivered', 200, null],
    ]);
    expect(attempts[1]!.attempt).toBe(2);
    const posts = receiver.received.filter((r) => r.path === '/hooks/flaky');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers['sealpost-event-id']).toBe(posts[1]!.headers['sealpost-event-id']);
    expect(posts.every((p) => verifySignature(String(p.headers['sealpost-signature']), p.body, tenant.secret).valid)).toBe(true);
  });

  it('records each failed attempt to an unreachable URL, then gives up', async () => {
    const closedPort = await freePort();
    const tenant = await tenantWithWebhook(`http://127.0.0.1:${closedPort}/nobody-listens`);
    const message = await submit(tenant.auth, 'carla@example.org');
    await waitFor(async () => (await deliveries(tenant.admin, message.id)).some((a) => a.outcome === 'failed'), 30_000);
    const attempts = await deliveries(tenant.admin, message.id);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.at(-1)!.outcome).toBe('failed');
    expect(attempts.slice(0, -1).every((a) => a.outcome === 'retrying')).toBe(true);
    expect(attempts.every((a) => a.statusCode === null && a.error === 'ECONNREFUSED')).toBe(true);
    expect(attempts.map((a) => a.attempt)).toEqual(attempts.map((_, i) => i + 1));
    // Given up: no job left for it.
    const left = await t.runtime.database.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'webhook' AND message_id = $1`, [message.id]);
    expect(left.rows[0].n).toBe(0);
  });

  it('queues nothing for a tenant without a webhook', async () => {
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const message = await submit(tenant.auth, 'dora@example.org');
    await waitFor(async () => {
      const res = await t.app.inject({ url: `/v1/messages/${message.id}`, headers: { authorization: tenant.auth } });
      return res.json().status === 'delivered';
    });
    const rows = await t.runtime.database.pool.query(
      `SELECT (SELECT count(*)::int FROM outbox WHERE kind = 'webhook' AND message_id = $1) AS jobs,
              (SELECT count(*)::int FROM webhook_deliveries WHERE message_id = $1) AS attempts`,
      [message.id],
    );
    expect(rows.rows[0]).toEqual({ jobs: 0, attempts: 0 });
  });
});
