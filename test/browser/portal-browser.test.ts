import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';
import { freePort } from '../support/local.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { portalLinkOf } from '../integration/portal-links.ts';
import { codeMailedTo, codeMailsTo, notificationsTo } from '../integration/portal-client.ts';

const artifacts = join(process.cwd(), 'test-artifacts', 'portal');

/**
 * The portal as a recipient uses it: the notification arrives at a real TLS
 * SMTP peer, the link from it is opened in real headless Chromium against the
 * listening server. Screenshots of each page go to test-artifacts/portal/.
 */
describe('portal in Chromium', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let auth: string;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    peer = await startSmtpPeer();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp({ smtp: peer, env: { PUBLIC_BASE_URL: base } });
    await t.app.listen({ host: '127.0.0.1', port });
    ({ auth } = await t.tenant({ senderDomains: ['example.com'] }));
    await t.startWorker();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await peer?.close();
  });

  const send = async (to: string, overrides: Record<string, unknown> = {}) => {
    const before = notificationsTo(peer, to).length;
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission({ to: [to], ...overrides }) });
    expect(res.statusCode, res.body).toBe(202);
    await expect.poll(() => notificationsTo(peer, to).length, { timeout: 15_000 }).toBeGreaterThan(before);
    return { id: res.json().id as string, link: await portalLinkOf(notificationsTo(peer, to).at(-1)!) };
  };

  const newPage = async (locale = 'en-GB'): Promise<Page> => (await browser.newContext({ acceptDownloads: true, locale })).newPage();

  it('confidential: the Read link opens the message, the attachment downloads, the open is a receipt', async () => {
    const slip = pdfLike(50_000);
    const { id, link } = await send('anna@example.org', {
      fromName: 'Payroll Müller AG',
      subject: 'Lohnabrechnung November 2026',
      text: 'Grüezi Anna\n\nIhre Lohnabrechnung liegt bei.\n<script>alert(1)</script>',
      language: 'de',
      attachments: [{ filename: 'lohn-2026-11.pdf', contentType: 'application/pdf', content: slip.toString('base64') }],
    });
    // The notification itself, as a mail client would render its HTML part.
    const mailView = await newPage();
    await mailView.setContent(String(link.parsed.html));
    await mailView.screenshot({ path: join(artifacts, '01-notification-mail.png') });
    const button = mailView.getByRole('link', { name: 'Lesen' });
    expect(await button.getAttribute('href')).toBe(link.url);

    const page = await newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    page.on('dialog', (d) => {
      scriptErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const response = await page.goto(link.url);
    expect(response?.status()).toBe(200);
    // The link shows only who sent what and a button; the open (and its receipt) is the button's POST.
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Vertrauliche Nachricht von Payroll Müller AG');
    await page.screenshot({ path: join(artifacts, '05-open-message-button.png') });
    expect((await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: auth } })).json().items).toEqual([]);
    await page.getByRole('button', { name: 'Nachricht öffnen' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Lohnabrechnung November 2026');
    expect(await page.locator('main').count()).toBe(1);
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    expect(await page.locator('pre.body').textContent()).toContain('<script>alert(1)</script>');
    // The stylesheet loaded under the strict CSP (no inline styles): the banner is blue.
    expect(await page.locator('header.banner').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(11, 87, 208)');
    await page.screenshot({ path: join(artifacts, '02-confidential-message.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'lohn-2026-11.pdf' }).click()]);
    expect(download.suggestedFilename()).toBe('lohn-2026-11.pdf');
    const saved = join(artifacts, 'downloaded.pdf');
    await download.saveAs(saved);
    expect(Buffer.compare(readFileSync(saved), slip)).toBe(0);
    expect(scriptErrors).toEqual([]);

    const receipts = (await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: auth } })).json().items;
    expect(receipts.map((r: { type: string }) => r.type)).toEqual(['opened']);
  });

  it('wrong token: a plain 404 page in the browser language', async () => {
    const page = await newPage('fr-CH');
    const response = await page.goto(`${base}/r/${'A'.repeat(43)}`);
    expect(response?.status()).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Lien non valable');
    await page.screenshot({ path: join(artifacts, '03-wrong-token.png') });
  });

  it('expired token: a 410 page', async () => {
    const { link } = await send('late@example.org', { language: 'it' });
    await t.runtime.database.pool.query("UPDATE portal_tokens SET expires_at = now() - interval '1 minute'");
    const page = await newPage('it-CH');
    const response = await page.goto(link.url);
    expect(response?.status()).toBe(410);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Link scaduto');
    await page.screenshot({ path: join(artifacts, '04-expired-token.png') });
  });

  const PASSWORD = 'browser password 2026';
  const status = async (id: string) => (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: auth } })).json().status;
  const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

  /** Open, register by the code from the real SMTP peer (or log in when registered); screenshots when given names. */
  async function signIn(page: Page, url: string, address: string, shots: { start?: string; form?: string; login?: string } = {}) {
    await page.goto(url);
    await page.getByRole('button', { name: 'Open message' }).click();
    if (await page.getByRole('button', { name: 'Log in' }).count()) {
      if (shots.login) await page.screenshot({ path: join(artifacts, shots.login) });
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      return;
    }
    expect(await heading(page)).toBe('Register to read this message');
    if (shots.start) await page.screenshot({ path: join(artifacts, shots.start) });
    const seen = codeMailsTo(peer, address);
    await page.getByRole('button', { name: 'Send code' }).click();
    const code = await codeMailedTo(peer, address, seen);
    expect(await heading(page)).toBe('Complete your registration');
    await page.getByLabel('One-time code').fill(code);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByLabel('I accept the terms of use').check();
    if (shots.form) await page.screenshot({ path: join(artifacts, shots.form), fullPage: true });
    await page.getByRole('button', { name: 'Register' }).click();
  }

  it('personal: register with the mailed code, read; later log in; the unlock code is asked after login', async () => {
    const { id, link } = await send('petra@example.org', { mode: 'personal', subject: 'Arbeitsvertrag', text: 'Your contract is attached.', unlockCode: 'Blue-Fox-42' });
    await expect.poll(() => status(id), { timeout: 15_000 }).toBe('delivered');
    const page = await newPage();
    await signIn(page, link.url, 'petra@example.org', { start: '06-personal-register.png', form: '07-personal-register-form.png' });
    expect(await heading(page)).toBe('Unlock code');
    await page.getByLabel('Unlock code').fill('wrong-code');
    await page.getByRole('button', { name: 'Unlock' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('The unlock code is wrong.');
    await page.screenshot({ path: join(artifacts, '08-personal-unlock.png') });
    await page.getByLabel('Unlock code').fill('Blue-Fox-42');
    await page.getByRole('button', { name: 'Unlock' }).click();
    expect(await heading(page)).toBe('Arbeitsvertrag');
    expect(await page.locator('pre.body').textContent()).toBe('Your contract is attached.');
    await page.screenshot({ path: join(artifacts, '09-personal-message.png'), fullPage: true });
    expect(await status(id)).toBe('opened');

    // Log out; the next visit is a login with address and password.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Open message' }).click();
    expect(await heading(page)).toBe('Log in');
    expect(await page.getByLabel('E-mail address').inputValue()).toBe('petra@example.org');
    await page.screenshot({ path: join(artifacts, '10-personal-login.png') });
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    expect(await heading(page)).toBe('Unlock code');
    await page.context().close();
  });

  it('registered: accept, then read', async () => {
    const { id, link } = await send('petra@example.org', { mode: 'registered', subject: 'Kündigung', text: 'Registered content.' });
    await expect.poll(() => status(id), { timeout: 15_000 }).toBe('delivered');
    const page = await newPage();
    await signIn(page, link.url, 'petra@example.org');
    expect(await heading(page)).toBe('Registered message');
    expect(await page.locator('main').textContent()).not.toContain('Registered content.');
    await page.screenshot({ path: join(artifacts, '11-registered-accept-or-refuse.png') });
    await page.getByRole('button', { name: 'Accept and read' }).click();
    expect(await heading(page)).toBe('Kündigung');
    await page.screenshot({ path: join(artifacts, '12-registered-accepted.png') });
    expect(await status(id)).toBe('accepted_by_recipient');
    const receipts = (await t.app.inject({ url: `/v1/messages/${id}/receipts`, headers: { authorization: auth } })).json().items;
    expect(receipts.map((r: { type: string }) => r.type)).toEqual(['opened', 'accepted_by_recipient']);
    await page.context().close();
  });

  it('registered: refuse, and the content is never shown', async () => {
    const { id, link } = await send('petra@example.org', { mode: 'registered', text: 'Never to be seen.' });
    await expect.poll(() => status(id), { timeout: 15_000 }).toBe('delivered');
    const page = await newPage();
    await signIn(page, link.url, 'petra@example.org');
    const response = page.waitForResponse((r) => r.url().endsWith('/message'));
    await page.getByRole('button', { name: 'Refuse' }).click();
    expect((await response).status()).toBe(403);
    expect(await heading(page)).toBe('Message refused');
    expect(await page.content()).not.toContain('Never to be seen.');
    await page.screenshot({ path: join(artifacts, '13-registered-refused.png') });
    expect(await status(id)).toBe('refused');
    await page.context().close();
  });

  it('registered: expired by the job after the acceptance period', async () => {
    const { id, link } = await send('petra@example.org', { mode: 'registered', text: 'Too late.' });
    await expect.poll(() => status(id), { timeout: 15_000 }).toBe('delivered');
    const recipientId = (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: auth } })).json().recipients[0].id;
    await t.runtime.database.pool.query("UPDATE portal_tokens SET expires_at = now() - interval '1 second' WHERE recipient_id = $1", [recipientId]);
    await t.runtime.database.pool.query("UPDATE outbox SET run_at = now() WHERE kind = 'registered_expiry' AND recipient_id = $1", [recipientId]);
    await expect.poll(() => status(id), { timeout: 15_000 }).toBe('expired');
    const page = await newPage();
    expect((await page.goto(link.url))?.status()).toBe(410);
    expect(await heading(page)).toBe('Message expired');
    await page.screenshot({ path: join(artifacts, '14-registered-expired.png') });
    await page.context().close();
  });

  it('a form without its CSRF token is refused (403) and changes nothing', async () => {
    const { id, link } = await send('petra@example.org', { mode: 'registered', text: 'CSRF.' });
    await expect.poll(() => status(id), { timeout: 15_000 }).toBe('delivered');
    const page = await newPage();
    await signIn(page, link.url, 'petra@example.org');
    // What a forged form would send: the same action, no token.
    await page.locator('form[action$="/accept"] input[name=csrf]').evaluate((input) => input.remove());
    const response = page.waitForResponse((r) => r.url().endsWith('/accept'));
    await page.getByRole('button', { name: 'Accept and read' }).click();
    expect((await response).status()).toBe(403);
    expect(await heading(page)).toBe('Form no longer valid');
    await page.screenshot({ path: join(artifacts, '15-csrf-missing.png') });
    expect(await status(id)).toBe('opened');
    await page.context().close();
  });

  it('lockout after repeated wrong passwords', async () => {
    const { link } = await send('petra@example.org', { mode: 'personal', text: 'Locked out.' });
    const page = await newPage();
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Open message' }).click();
    for (let i = 0; i < 5; i++) {
      expect(await heading(page)).toBe('Log in');
      await page.getByLabel('Password').fill(`wrong password ${i}`);
      await page.getByRole('button', { name: 'Log in' }).click();
    }
    expect(await heading(page)).toBe('Account locked');
    expect(await page.content()).not.toContain('Locked out.');
    await page.screenshot({ path: join(artifacts, '16-account-locked.png') });
    await page.context().close();
  });
});
