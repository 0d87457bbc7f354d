import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { credentialsOf, envelope, operation, soapPost } from '../support/soap.ts';
import { portalLinkOf } from './portal-links.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Confidential mail to a recipient without certificate: a notification with a
 * link goes out, the content stays; the link opens it once as a read receipt.
 */
describe('portal: confidential without certificate', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer, env: { PUBLIC_BASE_URL: 'https://post.example.test/', PORTAL_FAILURE_LIMIT: '5' } });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    await t.startWorker();
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

  it('notifies without content, opens in the portal, records the first open as a receipt', async () => {
    const slip = pdfLike(30_000);
    const id = await submit({
      to: ['lea@example.org'],
      fromName: 'Payroll Müller AG',
      subject: 'Lohnabrechnung November',
      text: 'Grüezi Lea, <b>Ihre</b> Lohnabrechnung liegt bei.',
      language: 'de',
      attachments: [{ filename: "lohn & Bonus's 2026 — Nov.pdf", contentType: 'application/pdf', content: slip.toString('base64') }],
    });
    const mail = await peer.mailTo('lea@example.org');
    const raw = mail.raw.toString('utf8');
    expect(raw).not.toContain('Lohnabrechnung');
    expect(raw).not.toContain('Grüezi');
    const { url, token, parsed } = await portalLinkOf(mail);
    expect(url).toBe(`https://post.example.test/r/${token}`);
    expect(parsed.subject).toBe('Vertrauliche Nachricht von Payroll Müller AG');
    expect(parsed.html).toContain('>Lesen</a>');
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['Sealpost.html']);
    expect(parsed.attachments[0]!.content.toString('utf8')).toContain(`href="${url}"`);

    // Only the hash of the token is stored.
    const stored = await t.runtime.database.pool.query('SELECT token_hash, expires_at FROM portal_tokens');
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].token_hash.toString('base64url')).not.toBe(token);
    const days = (new Date(stored.rows[0].expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    const events = async () => (await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: tenant.auth } })).json().items;
    await waitFor(async () => (await events()).some((e: { type: string }) => e.type === 'delivered'));
    expect((await events()).find((e: { type: string }) => e.type === 'delivered').detail).toMatchObject({ route: 'portal', smime: { signed: false } });

    // The link itself only shows who sent what and an "Open message" button: a link scanner's GET records nothing.
    const landing = await t.app.inject({ url: `/r/${token}` });
    expect(landing.statusCode).toBe(200);
    expect(landing.body).toContain('Vertrauliche Nachricht von Payroll Müller AG');
    expect(landing.body).toContain(`<form method="post" action="/r/${token}/open">`);
    expect(landing.body).not.toContain('Grüezi');
    await t.app.inject({ url: `/r/${token}` });
    expect((await events()).some((e: { type: string }) => e.type === 'opened')).toBe(false);

    const open = await t.app.inject({ method: 'POST', url: `/r/${token}/open` });
    expect(open.statusCode).toBe(303);
    expect(open.headers.location).toBe(`/r/${token}/message`);
    expect((await events()).filter((e: { type: string }) => e.type === 'opened')).toHaveLength(1);
    const page = await t.app.inject({ url: `/r/${token}/message` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<html lang="de">');
    expect(page.body).toContain('Grüezi Lea, &lt;b&gt;Ihre&lt;/b&gt; Lohnabrechnung liegt bei.');
    expect(page.body).toContain('lohn &amp; Bonus&#39;s 2026 — Nov.pdf');
    expect(page.body).not.toMatch(/<script/i);

    const file = await t.app.inject({ url: `/r/${token}/attachments/0` });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="lohn & Bonus's 2026 _ Nov.pdf"; filename*=UTF-8''lohn%20%26%20Bonus%27s%202026%20%E2%80%94%20Nov.pdf`);
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(Buffer.compare(file.rawPayload, slip)).toBe(0);
    expect((await t.app.inject({ url: `/r/${token}/attachments/1` })).statusCode).toBe(404);

    await t.app.inject({ method: 'POST', url: `/r/${token}/open` });
    const opened = (await events()).filter((e: { type: string }) => e.type === 'opened');
    expect(opened).toHaveLength(1);
    const status = (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: tenant.auth } })).json();
    expect(status.status).toBe('opened');

    const receipts = await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: tenant.auth } });
    expect(receipts.statusCode, receipts.body).toBe(200);
    expect(receipts.json().items).toEqual([
      { id: String(opened[0].id), recipientId: status.recipients[0].id, address: 'lea@example.org', type: 'opened', createdAt: opened[0].createdAt },
    ]);
    const auditor = await t.key(tenant.tenantId, 'auditor');
    expect((await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: auditor } })).json().items).toHaveLength(1);
    const other = await t.tenant();
    expect((await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: other.auth } })).statusCode).toBe(404);

    const soap = await soapPost(t.app, envelope(operation('GetReadReceipts', { messageId: id }), credentialsOf(tenant.token)));
    expect(soap.statusCode, soap.body).toBe(200);
    expect(soap.body).toMatch(/<type>opened<\/type>/);
    expect(soap.body).toContain('<address>lea@example.org</address>');
  });

  it('shows an HTML-only body as escaped text', async () => {
    await submit({ to: ['html@example.org'], text: undefined, html: '<p>Hello <img src=x onerror=alert(1)>there</p><script>alert(2)</script>', language: 'en' });
    const { token } = await portalLinkOf(await peer.mailTo('html@example.org'));
    const page = await t.app.inject({ url: `/r/${token}/message` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Hello there');
    expect(page.body).not.toContain('onerror');
    expect(page.body).not.toContain('alert');
  });

  it('answers an unknown link 404 and an expired one 410, as pages, and limits guessing per client address', async () => {
    await submit({ to: ['old@example.org'], language: 'fr' });
    const { token } = await portalLinkOf(await peer.mailTo('old@example.org'));
    await t.runtime.database.pool.query("UPDATE portal_tokens SET expires_at = now() - interval '1 second' WHERE recipient_id = (SELECT id FROM recipients WHERE address = 'old@example.org')");
    const gone = await t.app.inject({ url: `/r/${token}`, headers: { 'accept-language': 'it-CH, de;q=0.5' } });
    expect(gone.statusCode).toBe(410);
    expect(gone.body).toContain('Link scaduto');
    expect((await t.app.inject({ url: `/r/${token}/attachments/0` })).statusCode).toBe(410);

    const wrong = `${token.slice(0, -4)}AAAA`;
    const guess = (ip: string, path = `/r/${wrong}`) => t.app.inject({ url: path, remoteAddress: ip, headers: { 'accept-language': 'de' } });
    const first = await guess('192.0.2.7');
    expect(first.statusCode).toBe(404);
    expect(first.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(first.body).toContain('Link ungültig');
    expect((await guess('192.0.2.7', '/r/short')).statusCode).toBe(404);
    expect((await guess('192.0.2.7', '/r/%3Cscript%3E')).body).not.toContain('<script>');
    for (let i = 0; i < 2; i++) await guess('192.0.2.7');
    const limited = await guess('192.0.2.7');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.body).toContain('Zu viele Versuche');
    // Another client address is not affected.
    expect((await guess('192.0.2.8')).statusCode).toBe(404);
  });
});

