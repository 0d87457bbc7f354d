import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { loadConfig } from '../../src/config.ts';
import { openContent } from '../../src/core/sealed-content.ts';
import { findMessage } from '../../src/db/repositories/messages.ts';
import { startSmtpIngress, type SmtpIngress } from '../../src/ingress/smtp-ingress.ts';
import { createTestApp, pdfLike, type TestApp } from '../support/app.ts';
import { createTestCa, type Issued, type TestCa } from '../support/pki.ts';

const run = promisify(execFile);

/**
 * The SMTP door with a real client (nodemailer, and swaks) over STARTTLS:
 * client certificates and AUTH, the refusals before and after TLS, size,
 * senders and recipients, and every subject tag and mode.
 */
describe('SMTP ingress', () => {
  let t: TestApp;
  let ingress: SmtpIngress;
  let ca: TestCa;
  let tenant: { tenantId: string; keyId: string; token: string; auth: string };
  let clientCert: Issued;
  let dir: string;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    ca = await createTestCa('Ingress Test CA');
    const server = await ca.issueServer('localhost');
    dir = mkdtempSync(join(tmpdir(), 'sealpost-ingress-'));
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    Object.assign(env, {
      SMTP_INGRESS_PORT: '0',
      SMTP_INGRESS_TLS_CERT_FILE: file('server.crt', server.certPem),
      SMTP_INGRESS_TLS_KEY_FILE: file('server.key', server.keyPem),
      SMTP_INGRESS_CLIENT_CA_FILE: file('clients.crt', ca.certPem),
      SMTP_INGRESS_ROUTING_SUFFIX: '.secure.test',
      MAX_MESSAGE_BYTES: '100000',
    });
    t = await createTestApp({ env });
    ingress = await startSmtpIngress({ config: t.config, core: t.runtime.core, log: t.runtime.log });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    clientCert = await ca.issueClient(tenant.keyId);
  });
  afterAll(async () => {
    await ingress?.close();
    await t?.close();
  });

  const client = (options: { cert?: Issued; auth?: { user: string; pass: string }; ignoreTLS?: boolean; port?: number } = {}) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: options.port ?? ingress.port,
      secure: false,
      requireTLS: !options.ignoreTLS,
      ignoreTLS: options.ignoreTLS ?? false,
      tls: { ca: ca.certPem, servername: 'localhost', ...(options.cert && { cert: options.cert.certPem, key: options.cert.keyPem }) },
      ...(options.auth && { auth: options.auth }),
    });
  const secretOf = (token: string) => token.slice(token.indexOf('.') + 1);
  const mail = (overrides: Record<string, unknown> = {}) => ({
    from: 'Payroll <payroll@example.com>',
    to: 'Anna Muster <anna@example.org>',
    subject: 'Payslip November',
    text: 'Your payslip is attached.',
    attachments: [{ filename: 'payslip.pdf', content: pdfLike(2048), contentType: 'application/pdf' }],
    ...overrides,
  });
  /** Sends and resolves with the message id of the 250 reply. */
  const send = async (message: Record<string, unknown>, options: Parameters<typeof client>[0] = { cert: clientCert }) => {
    const info = await client(options).sendMail(message);
    const id = /queued as ([0-9a-f-]{36})/.exec(info.response)?.[1];
    expect(id, info.response).toBeDefined();
    return id!;
  };
  const refusal = async (message: Record<string, unknown>, options: Parameters<typeof client>[0] = { cert: clientCert }) => {
    const error = await client(options).sendMail(message).then(
      () => undefined,
      (e: { responseCode?: number; response?: string; message: string }) => e,
    );
    expect(error, 'the server accepted what it should refuse').toBeDefined();
    return { code: error!.responseCode, text: error!.response ?? error!.message };
  };
  const stored = async (id: string) => {
    const row = (await findMessage(t.runtime.database.db, tenant.tenantId, id))!;
    const res = await t.app.inject({ method: 'GET', url: `/v1/messages/${id}/events`, headers: { authorization: tenant.auth } });
    const submitted = res.json().items.find((e: { type: string }) => e.type === 'submitted');
    return { row, content: openContent(t.runtime.cipher, id, row.content), submitted: submitted.detail };
  };

  it('authenticates by a client certificate naming a key, and answers 250 only once the message is committed', async () => {
    const id = await send(mail());
    const res = await t.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: { authorization: tenant.auth } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ mode: 'confidential', from: 'payroll@example.com', recipients: [{ address: 'anna@example.org', status: 'accepted' }] });
    const { content, submitted } = await stored(id);
    expect(content.subject).toBe('Payslip November');
    expect(content.text?.trim()).toBe('Your payslip is attached.');
    expect(content.attachments).toEqual([expect.objectContaining({ filename: 'payslip.pdf', contentType: 'application/pdf' })]);
    expect(submitted).toMatchObject({ via: 'smtp', mode: 'confidential', recipients: 1 });
  });

  it('authenticates by AUTH PLAIN and AUTH LOGIN with key id and secret over TLS', async () => {
    const auth = { user: tenant.keyId, pass: secretOf(tenant.token) };
    expect(await send(mail({ subject: 'plain auth' }), { auth })).toBeDefined();
    const login = nodemailer.createTransport({
      host: '127.0.0.1', port: ingress.port, requireTLS: true, authMethod: 'LOGIN',
      tls: { ca: ca.certPem, servername: 'localhost' }, auth,
    });
    expect((await login.sendMail(mail({ subject: 'login auth' }))).response).toMatch(/^250 2\.6\.0 Ok: queued as/);
  });

  it('refuses AUTH before STARTTLS (538) and MAIL before STARTTLS (530)', async () => {
    const beforeTls = await refusal(mail(), { ignoreTLS: true, auth: { user: tenant.keyId, pass: secretOf(tenant.token) } });
    expect(beforeTls.code).toBe(538);
    const mailBeforeTls = await refusal(mail(), { ignoreTLS: true });
    expect(mailBeforeTls.code).toBe(530);
    expect(mailBeforeTls.text).toMatch(/STARTTLS/);
  });

  it('refuses a session with neither certificate nor AUTH (530), and a wrong secret (535)', async () => {
    expect((await refusal(mail(), {})).code).toBe(530);
    const wrong = await refusal(mail(), { auth: { user: tenant.keyId, pass: 'not-the-secret' } });
    expect(wrong.code).toBe(535);
  });

  it('refuses a client certificate from an unknown CA, and one whose CN names no key', async () => {
    const stranger = await (await createTestCa('Stranger CA')).issueClient(tenant.keyId);
    const unknownCa = await refusal(mail(), { cert: stranger });
    expect(unknownCa.text).toMatch(/not issued by a CA this server trusts/);
    const noKey = await refusal(mail(), { cert: await ca.issueClient('no-such-key') });
    expect(noKey.code).toBe(550);
    expect(noKey.text).toMatch(/names no active API key/);
  });

  it('refuses a message over the size limit with 552, and stores nothing', async () => {
    const before = await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages');
    const big = await refusal(mail({ attachments: [{ filename: 'big.pdf', content: pdfLike(200_000), contentType: 'application/pdf' }] }));
    expect(big.code).toBe(552);
    expect(big.text).toMatch(/5\.3\.4 .*message_too_large/);
    // Beyond the MIME limit (MAX_MESSAGE_BYTES as base64 plus framing) smtp-server stops reading and we refuse too.
    const huge = await refusal(mail({ attachments: [{ filename: 'huge.pdf', content: pdfLike(1_000_000), contentType: 'application/pdf' }] }));
    expect(huge.code).toBe(552);
    const after = await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("refuses a sender outside the tenant's domains (550 at RCPT), a bad recipient (553) and a Bcc recipient (554)", async () => {
    const sender = await refusal(mail({ from: 'boss@other.example', envelope: { from: 'boss@other.example', to: ['anna@example.org'] } }));
    expect(sender.code).toBe(550);
    expect(sender.text).toMatch(/may not send from other\.example/);
    const header = await refusal(mail({ envelope: { from: 'payroll@example.com', to: ['anna@example.org'] }, from: 'boss@other.example' }));
    expect(header.code).toBe(550);
    expect(header.text).toMatch(/sender_not_allowed/);
    const recipient = await refusal(mail({ envelope: { from: 'payroll@example.com', to: ['anna@localhost'] } }));
    expect(recipient.code).toBe(553);
    expect(recipient.text).toMatch(/RCPT TO has an invalid domain/);
    const bcc = await refusal(mail({ bcc: 'hidden@example.org' }));
    expect(bcc.code).toBe(554);
    expect(bcc.text).toMatch(/hidden@example\.org is in no To or Cc header/);
    const blocked = await refusal(mail({ attachments: [{ filename: 'setup.exe', content: Buffer.from('MZ\x90\x00 program'), contentType: 'application/octet-stream' }] }));
    expect(blocked.code).toBe(550);
    expect(blocked.text).toMatch(/attachment_blocked/);
  });

  it.each([
    ['<c> Payslip', 'Payslip', 'confidential', undefined],
    ['<p> Payslip', 'Payslip', 'personal', undefined],
    ['<r> Contract', 'Contract', 'registered', undefined],
    ['<im><c> Test-Mail outbound', 'Test-Mail outbound', 'confidential', undefined],
    ['Offer [confidential]', 'Offer', 'confidential', { sign: true, encryption: 'required' }],
    ['[noenc] Newsletter', 'Newsletter', 'confidential', { sign: true, encryption: 'never' }],
    ['[plain] Invoice', 'Invoice', 'confidential', { sign: false, encryption: 'never' }],
    ['[nosign] Minutes', 'Minutes', 'confidential', { sign: false, encryption: 'auto' }],
  ])('subject %j: stored as %j, mode %s, protection %j', async (subject, stripped, mode, protection) => {
    const id = await send(mail({ subject }));
    const { row, content, submitted } = await stored(id);
    expect(row.mode).toBe(mode);
    expect(content.subject).toBe(stripped);
    expect(content.protection).toEqual(protection);
    expect(submitted.protection).toEqual(protection);
  });

  it('removes the routing suffix from envelope and header recipients', async () => {
    const id = await send(mail({ to: 'Anna <anna@example.org.secure.test>', cc: 'bob@example.net.secure.test', subject: '<im><c> routed' }));
    const res = await t.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: { authorization: tenant.auth } });
    expect(res.json().recipients.map((r: { address: string; kind: string }) => [r.address, r.kind])).toEqual([
      ['anna@example.org', 'to'],
      ['bob@example.net', 'cc'],
    ]);
  });

  it('refuses a personal message that asks for no encryption, and a subject with two modes (554)', async () => {
    const personal = await refusal(mail({ subject: '<p> [noenc] Salary' }));
    expect(personal.code).toBe(554);
    expect(personal.text).toMatch(/personal message is never delivered unencrypted/);
    const two = await refusal(mail({ subject: '<c><r> Both' }));
    expect(two.code).toBe(554);
    expect(two.text).toMatch(/two modes/);
  });

  it('takes a resent message with the same Message-ID as the same submission', async () => {
    const message = mail({ subject: 'once', messageId: '<payslip-42@payroll.example.com>' });
    const first = await send(message);
    expect(await send(message)).toBe(first);
  });

  it("uses the tenant's default mode from SMTP_INGRESS_TENANT_MODES when the subject names none", async () => {
    const config = loadConfig({ ...env, DATABASE_URL: t.database.url, SMTP_INGRESS_TENANT_MODES: `${tenant.tenantId}=registered` });
    const second = await startSmtpIngress({ config, core: t.runtime.core, log: t.runtime.log });
    try {
      const id = await send(mail({ subject: 'no tag' }), { cert: clientCert, port: second.port });
      expect((await stored(id)).row.mode).toBe('registered');
      const tagged = await send(mail({ subject: '<c> tagged' }), { cert: clientCert, port: second.port });
      expect((await stored(tagged)).row.mode).toBe('confidential');
    } finally {
      await second.close();
    }
  });

  it('takes mail from swaks with a client certificate', async () => {
    const certFile = join(dir, 'swaks.crt');
    const keyFile = join(dir, 'swaks.key');
    writeFileSync(certFile, clientCert.certPem);
    writeFileSync(keyFile, clientCert.keyPem);
    const { stdout } = await run('swaks', [
      '--server', `127.0.0.1:${ingress.port}`, '--tls', '--tls-verify', '--tls-ca-path', join(dir, 'clients.crt'),
      '--tls-cert', certFile, '--tls-key', keyFile,
      '--from', 'payroll@example.com', '--to', 'anna@example.org',
      '--header', 'Subject: <r> from swaks', '--body', 'Hello from swaks',
    ], { timeout: 20_000 }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: `${e.stdout}\n${e.stderr}` }));
    const id = /250 2\.6\.0 Ok: queued as ([0-9a-f-]{36})/.exec(stdout)?.[1];
    expect(id, stdout).toBeDefined();
    const { row, content } = await stored(id!);
    expect(row.mode).toBe('registered');
    expect(content.subject).toBe('from swaks');
  });
});
