import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionRecipients } from '../../src/core/transition.ts';
import { locateSignerInfo, timeStampTokenOf } from '../../src/evidence/time-stamp.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeCa, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

interface Tsa {
  url: string;
  requests: number;
  down: boolean;
  close(): Promise<void>;
}

/**
 * A real RFC 3161 TSA on loopback: each request is answered by `openssl ts -reply`
 * with a TSA certificate (critical timeStamping EKU) issued by the test CA's
 * intermediate, the chain included. `down` answers 503 instead.
 */
async function startTsa(files: Awaited<ReturnType<typeof scratch>>, ca: SmimeCa): Promise<Tsa & { certFile: string }> {
  const dir = files.dir;
  const interCert = await files.file('tsa-inter.pem', ca.intermediate.certPem);
  const interKey = await files.file('tsa-inter.key', ca.intermediate.keyPem);
  const ext = await files.file(
    'tsa-ext.cnf',
    '[tsa_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const key = join(dir, 'tsa.key');
  const csr = join(dir, 'tsa.csr');
  const cert = join(dir, 'tsa.pem');
  for (const args of [
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', '/O=Sealpost Test/CN=Sealpost Test TSA', '-out', csr],
    ['x509', '-req', '-in', csr, '-CA', interCert, '-CAkey', interKey, '-set_serial', '0x5a17', '-days', '30', '-extfile', ext, '-extensions', 'tsa_ext', '-out', cert],
  ]) {
    const r = await run('openssl', args);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  await files.file('tsa-serial', '01\n');
  const config = await files.file(
    'tsa.cnf',
    [
      '[tsa]',
      'default_tsa = tsa1',
      '[tsa1]',
      `serial = ${join(dir, 'tsa-serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${cert}`,
      `signer_key = ${key}`,
      `certs = ${interCert}`,
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.99999.1',
      'digests = sha256',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  let n = 0;
  const state = { requests: 0, down: false };
  const server: Server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', async () => {
      state.requests++;
      if (state.down || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(state.down ? 503 : 415).end();
        return;
      }
      const query = await files.file(`query-${++n}.tsq`, Buffer.concat(body));
      const reply = await run('openssl', ['ts', '-reply', '-config', config, '-queryfile', query, '-chain', interCert, '-out', '-']);
      if (reply.code !== 0) {
        res.writeHead(500).end(reply.stderr);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(reply.stdout);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/tsa`,
    certFile: cert,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

interface Proof {
  id: string;
  type: string;
  sequence: number;
  sha256: string;
}

/**
 * RFC 3161 time-stamps on evidence from a real TSA (openssl ts) on loopback,
 * checked by openssl ts -verify and the CLI; and receipts mailed to the sender
 * of a registered message over the real TLS SMTP peer, signed with the
 * tenant's identity, the PDF read by pdftotext and the .p7m by openssl.
 */
describe('evidence: RFC 3161 time-stamps and receipts by mail', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ca: SmimeCa;
  let tsa: Awaited<ReturnType<typeof startTsa>>;
  let files: Awaited<ReturnType<typeof scratch>>;
  let anchor: string;
  let interFile: string;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;
  let messageId: string;
  let proofs: Proof[];

  const cli = async (...args: string[]) => exec(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '' } }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );
  const listProofs = async (id: string): Promise<Proof[]> =>
    (await t.app.inject({ url: `/v1/messages/${id}/proofs`, headers: { authorization: tenant.auth } })).json().items ?? [];
  const der = async (id: string) => (await t.app.inject({ url: `/v1/proofs/${id}`, headers: { authorization: tenant.auth } })).rawPayload;
  const receiptsMailed = () => peer.received.filter((m) => m.to.includes('payroll@example.com'));

  beforeAll(async () => {
    peer = await startSmtpPeer();
    peer.behaviour.rcpt = (address) => (address.startsWith('bounce@') ? { code: 550, message: 'No such user' } : undefined);
    ca = await createSmimeCa('Sealpost TSA Test');
    files = await scratch();
    tsa = await startTsa(files, ca);
    anchor = await files.file('root.pem', ca.root.certPem);
    interFile = await files.file('inter.pem', ca.intermediate.certPem);
    const issuer = await ca.issueUser('Sealpost Evidence Service', { emails: ['evidence@sealpost.test'] });
    t = await createTestApp({
      smtp: peer,
      env: {
        EVIDENCE_CERT_FILE: await files.file('evidence.pem', issuer.certPem + ca.intermediate.certPem),
        EVIDENCE_KEY_FILE: await files.file('evidence.key', issuer.keyPem),
        EVIDENCE_TSA_URL: tsa.url,
        EVIDENCE_TSA_TIMEOUT_MS: '5000',
        EVIDENCE_TSA_ATTEMPTS: '2',
        EVIDENCE_MAIL_RECEIPTS: 'registered',
      },
    });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    const admin = await t.key(tenant.tenantId, 'admin');
    const sender = await ca.issueUser('Payroll', { emails: ['payroll@example.com'] });
    for (const [url, payload] of [
      ['/v1/trust-anchors', { certificate: ca.root.certPem }],
      ['/v1/identities', { certificate: sender.certPem, privateKey: sender.keyPem, chain: ca.intermediate.certPem }],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization: admin }, payload });
      expect(res.statusCode, res.body).toBeLessThan(300);
    }
    await t.startWorker();

    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: tenant.auth },
      payload: submission({ to: ['rita@example.org', 'bounce@example.org'], mode: 'registered', subject: 'Kündigung', text: 'Registered content.', language: 'de', reference: 'KUE-7' }),
    });
    expect(res.statusCode, res.body).toBe(202);
    messageId = res.json().id;
    const rita = (res.json().recipients as Array<{ id: string; address: string }>).find((r) => r.address === 'rita@example.org')!;
    await waitFor(async () => (await t.app.inject({ url: `/v1/messages/${messageId}`, headers: { authorization: tenant.auth } })).json().status === 'partially_delivered');
    await t.runtime.database.db.transaction((tx) =>
      transitionRecipients(tx, messageId, 'portal', [{ recipientId: rita.id, to: 'accepted_by_recipient', event: { type: 'accepted_by_recipient', detail: { via: 'portal' } } }]),
    );
    // submitted, delivered (notification to rita), failed (bounce), accepted_by_recipient.
    await waitFor(async () => (await listProofs(messageId)).length === 4);
    proofs = await listProofs(messageId);
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await tsa?.close();
    await files?.remove();
  });

  it('time-stamps every evidence; openssl ts -verify accepts the token over the signature value', async () => {
    expect(tsa.requests).toBeGreaterThanOrEqual(4);
    for (const proof of proofs) {
      const bytes = await der(proof.id);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(proof.sha256); // the chain covers the stamped bytes
      const verified = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', anchor], bytes);
      expect(verified.code, verified.stderr).toBe(0);
      const token = timeStampTokenOf(bytes);
      expect(token, proof.type).toBeDefined();
      const tokenFile = await files.file(`token-${proof.sequence}.der`, token!);
      const digest = createHash('sha256').update(locateSignerInfo(bytes).signatureValue).digest('hex');
      const ts = await run('openssl', ['ts', '-verify', '-in', tokenFile, '-token_in', '-digest', digest, '-CAfile', anchor, '-untrusted', interFile]);
      expect(ts.code, ts.stderr + ts.stdout.toString()).toBe(0);
      expect(ts.stdout.toString()).toContain('Verification: OK');
      // The token is over this signature, not another.
      const other = await run('openssl', ['ts', '-verify', '-in', tokenFile, '-token_in', '-digest', 'ab'.repeat(32), '-CAfile', anchor, '-untrusted', interFile]);
      expect(other.code).not.toBe(0);
    }
  });

  it('the CLI reports and checks the time-stamp; a wrong TSA anchor or a changed token byte fails', async () => {
    const paths: string[] = [];
    for (const proof of proofs) paths.push(await files.file(`proof-${proof.sequence}.p7m`, await der(proof.id)));
    const ok = await cli('proof', 'verify', ...paths, '--ca', anchor, '--tsa-ca', anchor);
    expect(ok.out).toMatch(/time-stamped \d{4}-\d\d-\d\dT[\d:.]+Z by O=Sealpost Test, CN=Sealpost Test TSA/);
    expect(ok.out).not.toContain('TSA not checked');
    expect(ok.out).toContain('result: valid');
    expect(ok.code).toBe(0);

    const unanchored = await cli('proof', 'verify', paths[0]!, '--ca', anchor);
    expect(unanchored.code).toBe(0);
    expect(unanchored.out).toContain('TSA not checked against a --tsa-ca anchor');

    const other = await createSmimeCa('Another TSA Root');
    const wrong = await cli('proof', 'verify', paths[0]!, '--ca', anchor, '--tsa-ca', await files.file('other-root.pem', other.root.certPem));
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/time-stamp: the TSA certificate does not chain/);

    // A changed byte inside the token's TSTInfo (the unsigned attribute: the evidence signature still holds).
    const bytes = await der(proofs[0]!.id);
    const token = timeStampTokenOf(bytes)!;
    const policy = Buffer.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01]); // 1.3.6.1.4.1.99999.1 in the TSTInfo
    expect(token.indexOf(policy)).toBeGreaterThan(0);
    const at = bytes.indexOf(token) + token.indexOf(policy) + policy.length - 1;
    const tampered = Buffer.from(bytes);
    tampered[at] = tampered[at]! ^ 0x01;
    const bad = await cli('proof', 'verify', await files.file('tampered-token.p7m', tampered), '--ca', anchor);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/time-stamp: /);
  });

  it('mails the sender of a registered message its receipts: PDF and signed evidence, the mail signed by the tenant', async () => {
    await waitFor(async () => receiptsMailed().length === 3);
    const byType = new Map<string, { pdf: Buffer; p7m: Buffer; subject: string }>();
    for (const mail of receiptsMailed()) {
      expect(mail.secure).toBe(true);
      const mailFile = await files.file(`receipt-mail-${byType.size}.eml`, mail.raw);
      const verified = await run('openssl', ['cms', '-verify', '-in', mailFile, '-CAfile', anchor]);
      expect(verified.code, verified.stderr).toBe(0);
      const inner = await simpleParser(verified.stdout);
      const outer = await simpleParser(mail.raw);
      const pdf = inner.attachments.find((a) => a.contentType === 'application/pdf')!;
      const p7m = inner.attachments.find((a) => a.filename?.endsWith('.p7m'))!;
      expect(pdf && p7m, outer.subject).toBeTruthy();
      const proof = proofs.find((p) => p7m.filename === `evidence-${p.id}.p7m`)!;
      expect(createHash('sha256').update(p7m.content).digest('hex')).toBe(proof.sha256);
      byType.set(proof.type, { pdf: pdf.content, p7m: p7m.content, subject: outer.subject ?? '' });
    }
    expect([...byType.keys()].sort()).toEqual(['ConsignmentAcceptance', 'ContentConsignmentFailure', 'SubmissionAcceptance']);
    expect(byType.get('SubmissionAcceptance')!.subject).toBe('Abgabequittung: KUE-7');
    for (const [type, { pdf, p7m }] of byType) {
      const text = (await run('pdftotext', ['-layout', await files.file(`mailed-${type}.pdf`, pdf), '-'])).stdout.toString();
      expect(text).toContain(messageId);
      expect(text).toContain('KUE-7');
      expect(text).toContain('payroll@example.com');
      expect(text).toContain(type);
      const cms = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', anchor], p7m);
      expect(cms.code, cms.stderr).toBe(0);
      expect(cms.stdout.toString()).toContain(`<ERDSEventId>http://uri.etsi.org/19522/Event/${type}</ERDSEventId>`);
    }
    expect((await run('pdftotext', [await files.file('abholung.pdf', byType.get('ConsignmentAcceptance')!.pdf), '-'])).stdout.toString()).toContain('Abholquittung');
    // No receipt for the notification (NotificationForAcceptance is not mailed).
    expect(receiptsMailed()).toHaveLength(3);
  });

  it('a message that is not registered gets no receipt mail', async () => {
    const before = receiptsMailed().length;
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to: ['ulla@example.org'] }) });
    expect(res.statusCode, res.body).toBe(202);
    await waitFor(async () => (await listProofs(res.json().id)).length === 2);
    expect(receiptsMailed().length).toBe(before);
  });

  it('a TSA that is down: nothing is issued while it is retried, then the evidence is issued without a time-stamp', async () => {
    tsa.down = true;
    const before = tsa.requests;
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to: ['vera@example.org'] }) });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id as string;
    await waitFor(async () => (await listProofs(id)).length >= 1, 30_000);
    // EVIDENCE_TSA_ATTEMPTS=2: one refused request, then issued unstamped.
    expect(tsa.requests - before).toBeGreaterThanOrEqual(1);
    const first = (await listProofs(id))[0]!;
    expect(first.sequence).toBe(1);
    const bytes = await der(first.id);
    expect(timeStampTokenOf(bytes)).toBeUndefined();
    const verified = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', anchor], bytes);
    expect(verified.code, verified.stderr).toBe(0);
    tsa.down = false;
  }, 40_000);
});
