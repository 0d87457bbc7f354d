import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { codeMailedTo, codeMailsTo, notificationsTo, PortalClient } from './portal-client.ts';
import { portalLinkOf } from './portal-links.ts';

const PASSWORD = 'registered letter 2026';

/**
 * Registered mail in the portal: accept or refuse before any content, expiry
 * by the outbox job at the end of the acceptance period, automatic acceptance
 * for listed business domains; each step a logbook event and a read receipt.
 */
describe('portal: registered', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;
  const pool = () => t.runtime.database.pool;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer, env: { PUBLIC_BASE_URL: 'http://post.example.test', PORTAL_AUTO_ACCEPT_DOMAINS: 'partner.example, other.example' } });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  const send = async (to: string, overrides: Record<string, unknown> = {}) => {
    const before = notificationsTo(peer, to).length;
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: tenant.auth },
      payload: submission({ to: [to], mode: 'registered', subject: 'Kündigung', text: 'Registered content.', ...overrides }),
    });
    expect(res.statusCode, res.body).toBe(202);
    await expect.poll(() => notificationsTo(peer, to).length, { timeout: 15_000 }).toBeGreaterThan(before);
    const id = res.json().id as string;
    await expect.poll(async () => (await status(id)).status, { timeout: 15_000 }).toBe('delivered');
    return { id, recipientId: res.json().recipients[0].id as string, token: (await portalLinkOf(notificationsTo(peer, to).at(-1)!)).token };
  };
  const status = async (id: string) => (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: tenant.auth } })).json();
  const events = async (id: string) =>
    (await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: tenant.auth } })).json().items as Array<{ type: string; actor: string; detail: Record<string, unknown> }>;
  const receipts = async (id: string) => (await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: tenant.auth } })).json().items.map((r: { type: string }) => r.type);

  async function logIn(client: PortalClient, address: string) {
    const page = await client.open();
    if (page.body.includes(`/r/${client.token}/login"`)) {
      expect((await client.post('login', { address, password: PASSWORD })).statusCode).toBe(303);
    } else {
      const seen = codeMailsTo(peer, address);
      expect((await client.post('code')).statusCode).toBe(303);
      const code = await codeMailedTo(peer, address, seen);
      await client.get('/message');
      expect((await client.post('register', { code, password: PASSWORD, passwordRepeat: PASSWORD, terms: 'accept' })).statusCode).toBe(303);
    }
    return client.get('/message');
  }

  it('accept: the content only after acceptance, recorded as accepted_by_recipient', async () => {
    const { id, token } = await send('rita@example.org');
    const client = new PortalClient(t.app, token);
    const decide = await logIn(client, 'rita@example.org');
    expect(decide.statusCode).toBe(200);
    expect(decide.body).toContain(`action="/r/${token}/accept"`);
    expect(decide.body).toContain(`action="/r/${token}/refuse"`);
    expect(decide.body).not.toContain('Registered content.');
    expect(decide.body).not.toContain('Kündigung');
    expect((await client.get('/attachments/0')).statusCode).toBe(303);
    // Seeing that a registered letter waits is `opened`; it stays undecided.
    expect((await status(id)).status).toBe('opened');

    // A form without the CSRF token decides nothing.
    expect((await client.post('accept', {}, { csrf: false })).statusCode).toBe(403);
    expect((await status(id)).status).toBe('opened');

    await client.get('/message');
    expect((await client.post('accept')).statusCode).toBe(303);
    const page = await client.get('/message');
    expect(page.body).toContain('Registered content.');
    expect((await client.get('/attachments/0')).statusCode).toBe(200);
    expect((await status(id)).status).toBe('accepted_by_recipient');
    const accepted = (await events(id)).find((e) => e.type === 'accepted_by_recipient');
    expect(accepted).toMatchObject({ actor: 'recipient:portal', detail: { via: 'portal' } });
    expect(await receipts(id)).toEqual(['opened', 'accepted_by_recipient']);
    // Deciding again changes nothing.
    await client.get('/message');
    expect((await client.post('refuse')).statusCode).toBe(303);
    expect((await status(id)).status).toBe('accepted_by_recipient');
  });

  it('refuse: never any content, recorded as refused', async () => {
    const { id, token } = await send('rita@example.org', { text: 'Never shown.' });
    const client = new PortalClient(t.app, token);
    await logIn(client, 'rita@example.org');
    expect((await client.post('refuse')).statusCode).toBe(303);
    const refused = await client.get('/message');
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('Message refused');
    expect(refused.body).not.toContain('Never shown.');
    expect((await client.get('/attachments/0')).statusCode).toBe(303);
    await client.post('accept');
    expect((await status(id)).status).toBe('refused');
    expect((await events(id)).find((e) => e.type === 'refused')).toMatchObject({ actor: 'recipient:portal' });
    expect(await receipts(id)).toEqual(['opened', 'refused']);
  });

  it('expires an undecided copy by the outbox job at the end of the acceptance period', async () => {
    const { id, recipientId, token } = await send('late@example.org');
    // The job was queued with the link, due when the link (the acceptance period, 7 days) ends.
    const job = (await pool().query("SELECT extract(epoch FROM run_at - now())::float8 AS due_in FROM outbox WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId])).rows[0];
    expect(job.due_in).toBeGreaterThan(7 * 86_400 - 120);
    expect(job.due_in).toBeLessThan(7 * 86_400 + 1);
    // Due early while the link still lives: the job waits for the link's end and expires nothing.
    await pool().query("UPDATE outbox SET run_at = now() WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId]);
    await expect
      .poll(async () => (await pool().query("SELECT extract(epoch FROM run_at - now())::float8 AS due_in FROM outbox WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId])).rows[0]?.due_in, { timeout: 10_000 })
      .toBeGreaterThan(86_400);
    expect((await status(id)).status).toBe('delivered');

    // The period is over: the job is due and the link expired.
    await pool().query("UPDATE portal_tokens SET expires_at = now() - interval '1 second' WHERE recipient_id = $1", [recipientId]);
    await pool().query("UPDATE outbox SET run_at = now() WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId]);
    await expect.poll(async () => (await status(id)).status, { timeout: 10_000 }).toBe('expired');
    expect((await events(id)).find((e) => e.type === 'expired')).toMatchObject({ actor: 'system:acceptance-period', detail: { reason: 'not accepted within the acceptance period' } });
    expect(await receipts(id)).toEqual(['expired']);
    expect((await pool().query("SELECT count(*)::int AS n FROM outbox WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId])).rows[0].n).toBe(0);

    const page = await new PortalClient(t.app, token).get();
    expect(page.statusCode).toBe(410);
    expect(page.body).toContain('Message expired');
    expect(page.body).not.toContain('Registered content.');
  });

  it('an accepted copy is not expired by the job', async () => {
    const { id, recipientId, token } = await send('rita@example.org');
    const client = new PortalClient(t.app, token);
    await logIn(client, 'rita@example.org');
    await client.post('accept');
    await pool().query("UPDATE portal_tokens SET expires_at = now() - interval '1 second' WHERE recipient_id = $1", [recipientId]);
    await pool().query("UPDATE outbox SET run_at = now() WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId]);
    await expect.poll(async () => (await pool().query("SELECT count(*)::int AS n FROM outbox WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId])).rows[0].n, { timeout: 10_000 }).toBe(0);
    expect((await status(id)).status).toBe('accepted_by_recipient');
  });

  it('accepts automatically for a listed business domain, at first open after login', async () => {
    const { id, token } = await send('hr@partner.example', { text: 'Auto-accepted content.' });
    const client = new PortalClient(t.app, token);
    const page = await logIn(client, 'hr@partner.example');
    expect(page.body).toContain('Auto-accepted content.');
    expect((await events(id)).find((e) => e.type === 'accepted_by_recipient')).toMatchObject({ actor: 'auto-acceptance' });
    expect((await status(id)).status).toBe('accepted_by_recipient');
  });
});
