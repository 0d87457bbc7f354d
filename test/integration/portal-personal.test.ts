import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContent } from '../../src/core/sealed-content.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { credentialsOf, envelope, operation, soapPost } from '../support/soap.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { codeMailedTo, codeMailsTo, notificationsTo, PortalClient } from './portal-client.ts';
import { portalLinkOf } from './portal-links.ts';

const PASSWORD = 'correct horse battery';

/**
 * Personal mail in the portal: registration by a one-time code mailed (through
 * the outbox and the real SMTP peer) to the address, password and terms, login,
 * unlock code, lockout, sessions and CSRF (docs/modes.md).
 */
describe('portal: personal', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;
  const pool = () => t.runtime.database.pool;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({
      smtp: peer,
      env: { PUBLIC_BASE_URL: 'https://post.example.test', PORTAL_LOGIN_FAILURE_LIMIT: '3', PORTAL_FAILURE_LIMIT: '6', PORTAL_SESSION_IDLE_MINUTES: '20' },
    });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  const send = async (to: string, overrides: Record<string, unknown> = {}) => {
    const before = notificationsTo(peer, to).length;
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to: [to], mode: 'personal', ...overrides }) });
    expect(res.statusCode, res.body).toBe(202);
    await expect.poll(() => notificationsTo(peer, to).length, { timeout: 15_000 }).toBeGreaterThan(before);
    return { id: res.json().id as string, token: (await portalLinkOf(notificationsTo(peer, to).at(-1)!)).token };
  };
  const events = async (id: string) => (await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: tenant.auth } })).json().items as Array<{ type: string; actor: string; detail: Record<string, unknown> }>;
  const delivered = (id: string) => expect.poll(async () => (await events(id)).some((e) => e.type === 'delivered'), { timeout: 15_000 }).toBe(true);

  /** The whole first visit: open, ask for the code, read it from the mail, register. */
  async function register(client: PortalClient, address: string) {
    const start = await client.open();
    expect(start.statusCode).toBe(200);
    expect(start.body).toContain(`action="/r/${client.token}/code"`);
    const seen = codeMailsTo(peer, address);
    expect((await client.post('code')).statusCode).toBe(303);
    const code = await codeMailedTo(peer, address, seen);
    expect((await client.get('/message')).body).toContain('name="passwordRepeat"');
    const done = await client.post('register', { code, password: PASSWORD, passwordRepeat: PASSWORD, terms: 'accept' });
    expect(done.statusCode, done.body).toBe(303);
    await client.get('/message');
    return code;
  }

  it('registers on the first visit (code by mail, password, terms), then shows the content; later visits log in', async () => {
    const { id, token } = await send('paula@example.org', { subject: 'Arbeitsvertrag', text: 'Ihr Vertrag liegt bei.', language: 'de' });
    await delivered(id);
    const client = new PortalClient(t.app, token);

    // The link: a landing page, no session, no receipt.
    const landing = await client.get();
    expect(landing.statusCode).toBe(200);
    expect(landing.headers['set-cookie']).toBeUndefined();
    expect(landing.body).not.toContain('Arbeitsvertrag');
    // "Open message" starts an anonymous session: Secure (https base URL), HttpOnly, SameSite=Strict, Path=/r/.
    const opened = await client.post('open', {}, { csrf: false });
    expect(opened.statusCode).toBe(303);
    expect(opened.headers['set-cookie']).toMatch(/^sealpost_portal=[A-Za-z0-9_-]{43}; Path=\/r\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    const anonymous = client.cookie;
    const start = await client.get('/message');
    expect(start.body).toContain('paula@example.org');
    expect(start.body).not.toContain('Ihr Vertrag');

    const seen = codeMailsTo(peer, 'paula@example.org');
    expect((await client.post('code')).statusCode).toBe(303);
    const code = await codeMailedTo(peer, 'paula@example.org', seen);
    const mail = peer.received.filter((m) => m.raw.toString('latin1').includes('registration-code')).at(-1)!;
    expect(mail.raw.toString('utf8')).not.toContain('Arbeitsvertrag');
    // Only the hash of the code is stored; a second request within the minute sends nothing more.
    const account = (await pool().query("SELECT * FROM portal_accounts WHERE address = 'paula@example.org'")).rows[0];
    expect(account.code_hash.toString('hex')).not.toContain(code);
    await client.get('/message');
    expect((await client.post('code')).statusCode).toBe(429);

    const form = await client.get('/message');
    expect(form.body).toContain('name="terms"');
    const wrong = await client.post('register', { code: code === '00000000' ? '11111111' : '00000000', password: PASSWORD, passwordRepeat: PASSWORD, terms: 'accept' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('Der Code ist falsch oder abgelaufen.');
    expect((await client.post('register', { code, password: 'short', passwordRepeat: 'short', terms: 'accept' })).body).toContain('mindestens 10 Zeichen');
    expect((await client.post('register', { code, password: PASSWORD, passwordRepeat: `${PASSWORD}!`, terms: 'accept' })).statusCode).toBe(400);
    const noTerms = await client.post('register', { code, password: PASSWORD, passwordRepeat: PASSWORD });
    expect(noTerms.statusCode).toBe(400);
    expect(noTerms.body).toContain('Nutzungsbedingungen');
    const registered = await client.post('register', { code, password: PASSWORD, passwordRepeat: PASSWORD, terms: 'accept' });
    expect(registered.statusCode).toBe(303);
    // Login replaces the session: the anonymous id is worth nothing now.
    expect(client.cookie).toBeDefined();
    expect(client.cookie).not.toBe(anonymous);

    const page = await client.get('/message');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Ihr Vertrag liegt bei.');
    const logbook = await events(id);
    expect(logbook.filter((e) => e.type === 'opened')).toHaveLength(1);
    expect(logbook.find((e) => e.type === 'terms_accepted')).toMatchObject({ actor: 'recipient:portal', detail: { termsVersion: '2026-11' } });
    const stored = (await pool().query("SELECT password_hash, terms_accepted_at, terms_version, code_hash, failed_attempts FROM portal_accounts WHERE address = 'paula@example.org'")).rows[0];
    expect(stored.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored.password_hash).not.toContain(PASSWORD);
    expect(stored).toMatchObject({ terms_version: '2026-11', code_hash: null, failed_attempts: 0 });
    expect(stored.terms_accepted_at).toBeInstanceOf(Date);
    const sessions = (await pool().query("SELECT id_hash FROM portal_sessions WHERE address = 'paula@example.org'")).rows;
    expect(sessions).toHaveLength(1);
    expect(sessions[0].id_hash.toString('base64url')).not.toBe(client.cookie!.split('=')[1]);

    // Another message to the same address: the live session opens it without a login.
    const second = await send('paula@example.org', { text: 'Zweite Nachricht.', language: 'de' });
    await delivered(second.id);
    const sameBrowser = new PortalClient(t.app, second.token);
    sameBrowser.cookie = client.cookie;
    expect((await sameBrowser.open()).body).toContain('Zweite Nachricht.');

    // Logged out, the next visit logs in with address and password.
    await client.get('/message');
    expect((await client.post('logout')).statusCode).toBe(303);
    expect(client.cookie).toBeUndefined();
    const login = await client.open();
    expect(login.body).toContain(`action="/r/${token}/login"`);
    const bad = await client.post('login', { address: 'paula@example.org', password: 'not the password' });
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain('E-Mail-Adresse oder Passwort falsch.');
    expect(bad.body).not.toContain('Ihr Vertrag');
    expect((await client.post('login', { address: 'Paula@Example.org', password: PASSWORD })).statusCode).toBe(303);
    expect((await client.get('/message')).body).toContain('Ihr Vertrag liegt bei.');
    expect((await events(id)).filter((e) => e.type === 'opened')).toHaveLength(1);
    expect((await pool().query("SELECT failed_attempts FROM portal_accounts WHERE address = 'paula@example.org'")).rows[0].failed_attempts).toBe(0);
  });

  it('refuses a form without or with a wrong CSRF token (403) and changes nothing', async () => {
    const { id, token } = await send('csrf@example.org');
    await delivered(id);
    const client = new PortalClient(t.app, token, '203.0.113.20');
    await register(client, 'csrf@example.org');
    await client.post('logout');
    await client.open();
    const before = client.cookie;
    for (const csrf of [undefined, 'A'.repeat(43), '']) {
      const res = await client.post('login', { address: 'csrf@example.org', password: PASSWORD, ...(csrf !== undefined && { csrf }) }, { csrf: false });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Form no longer valid');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    // A POST with no session at all (another site's form cannot send our SameSite=Strict cookie).
    const stranger = new PortalClient(t.app, token, '203.0.113.21');
    expect((await stranger.post('code', {}, { csrf: false })).statusCode).toBe(403);
    // Bodies that are no form, or too big: a 4xx page, nothing changes.
    const headers = { cookie: client.cookie! };
    const json = await t.app.inject({ method: 'POST', url: `/r/${token}/login`, remoteAddress: '203.0.113.22', headers, payload: { address: 'csrf@example.org', password: PASSWORD } });
    expect(json.statusCode).toBe(403);
    const big = await t.app.inject({
      method: 'POST',
      url: `/r/${token}/login`,
      remoteAddress: '203.0.113.22',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=x&password=${'a'.repeat(20_000)}`,
    });
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toBe('text/html; charset=utf-8');
    const long = await t.app.inject({
      method: 'POST',
      url: `/r/${token}/login`,
      remoteAddress: '203.0.113.22',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=x&password=${'a'.repeat(2_000)}`,
    });
    expect(long.statusCode).toBe(400);
    expect(client.cookie).toBe(before);
    expect((await pool().query("SELECT failed_attempts FROM portal_accounts WHERE address = 'csrf@example.org'")).rows[0].failed_attempts).toBe(0);
    expect((await events(id)).filter((e) => e.type === 'opened')).toHaveLength(1);
  });

  it('locks the account after PORTAL_LOGIN_FAILURE_LIMIT wrong passwords, and the client address after PORTAL_FAILURE_LIMIT failures', async () => {
    const { id, token } = await send('lock@example.org');
    await delivered(id);
    const owner = new PortalClient(t.app, token, '203.0.113.30');
    await register(owner, 'lock@example.org');
    await owner.post('logout');

    const attacker = new PortalClient(t.app, token, '203.0.113.31');
    await attacker.open();
    for (let i = 0; i < 2; i++) expect((await attacker.post('login', { address: 'lock@example.org', password: `guess ${i}` })).statusCode).toBe(401);
    const locked = await attacker.post('login', { address: 'lock@example.org', password: 'guess 3' });
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toContain('Account locked');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    // Locked means locked: the right password from the owner's own browser does not get in either.
    await owner.open();
    expect(owner.last!.statusCode).toBe(429);
    const right = await owner.post('login', { address: 'lock@example.org', password: PASSWORD }, { csrf: false });
    expect(right.statusCode).toBe(403);
    const account = (await pool().query("SELECT locked_until FROM portal_accounts WHERE address = 'lock@example.org'")).rows[0];
    expect(new Date(account.locked_until).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    // Unlocked by time (simulated): the right password works again.
    await pool().query("UPDATE portal_accounts SET locked_until = now() - interval '1 second' WHERE address = 'lock@example.org'");
    await owner.open();
    expect((await owner.post('login', { address: 'lock@example.org', password: PASSWORD })).statusCode).toBe(303);

    // The attacker's address has 3 failures; 3 more (here: unknown links) and it is refused everywhere, valid links included.
    for (let i = 0; i < 3; i++) await t.app.inject({ url: `/r/${'B'.repeat(43)}`, remoteAddress: '203.0.113.31' });
    const throttled = await attacker.get();
    expect(throttled.statusCode).toBe(429);
    expect(throttled.body).toContain('Too many attempts');
  });

  it('ends idle and too old sessions', async () => {
    const { id, token } = await send('idle@example.org', { text: 'Idle content.' });
    await delivered(id);
    const client = new PortalClient(t.app, token, '203.0.113.40');
    await register(client, 'idle@example.org');
    expect((await client.get('/message')).body).toContain('Idle content.');
    await pool().query("UPDATE portal_sessions SET last_seen_at = now() - interval '21 minutes' WHERE address = 'idle@example.org'");
    const idle = await client.get('/message');
    expect(idle.statusCode).toBe(303);
    expect(idle.headers.location).toBe(`/r/${token}`);
    expect((await pool().query("SELECT count(*)::int AS n FROM portal_sessions WHERE address = 'idle@example.org'")).rows[0].n).toBe(0);

    await client.open();
    await client.post('login', { address: 'idle@example.org', password: PASSWORD });
    expect((await client.get('/message')).body).toContain('Idle content.');
    await pool().query("UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE address = 'idle@example.org'");
    expect((await client.get('/message')).statusCode).toBe(303);
    // A cookie that was never issued is no session either.
    client.cookie = `sealpost_portal=${'C'.repeat(43)}`;
    expect((await client.get('/message')).statusCode).toBe(303);
  });

  it('asks for the sender’s unlock code after login; a wrong one is a failure', async () => {
    const { id, token } = await send('unlock@example.org', { text: 'Behind the unlock code.', unlockCode: 'K7-2026x' });
    await delivered(id);
    const sealed = (await pool().query('SELECT content FROM messages WHERE id = $1', [id])).rows[0].content as Buffer;
    expect(sealed.toString('latin1')).not.toContain('K7-2026x');
    const client = new PortalClient(t.app, token, '203.0.113.50');
    await register(client, 'unlock@example.org');
    const ask = await client.get('/message');
    expect(ask.body).toContain('name="unlockCode"');
    expect(ask.body).not.toContain('Behind the unlock code.');
    expect((await client.get('/attachments/0')).statusCode).toBe(303);
    const wrong = await client.post('unlock', { unlockCode: 'K7-2026X' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('The unlock code is wrong.');
    expect((await pool().query("SELECT failed_attempts FROM portal_accounts WHERE address = 'unlock@example.org'")).rows[0].failed_attempts).toBe(1);
    expect((await client.post('unlock', { unlockCode: 'K7-2026x' })).statusCode).toBe(303);
    expect((await client.get('/message')).body).toContain('Behind the unlock code.');
    expect((await client.get('/attachments/0')).statusCode).toBe(200);

    // SOAP takes the same field.
    const soap = await soapPost(
      t.app,
      envelope(operation('SubmitMessage', { mode: 'personal', from: 'payroll@example.com', to: { address: 'soap@example.org' }, subject: 'S', text: 'T', unlockCode: 'Soap-1234' }), credentialsOf(tenant.token)),
    );
    expect(soap.statusCode, soap.body).toBe(200);
    const soapId = /<id>([^<]+)<\/id>/.exec(soap.body)![1]!;
    const soapSealed = (await pool().query('SELECT content FROM messages WHERE id = $1', [soapId])).rows[0].content as Buffer;
    expect(openContent(t.runtime.cipher, soapId, soapSealed).unlockCode).toMatchObject({ salt: expect.any(String), sha256: expect.any(String) });

    // Bad input at submission: a confidential message takes no unlock code; a code with spaces is refused.
    for (const [mode, unlockCode] of [['confidential', 'K7-2026x'], ['personal', 'has space'], ['personal', 'abc']]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to: ['x@example.org'], mode, unlockCode }) });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().code, res.body).toBe('invalid_field');
    }
  });
});
