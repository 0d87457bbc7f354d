import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { chooseSigningIdentity, importIdentity } from '../../src/core/identities.ts';
import { rollOverExpiringIdentities } from '../../src/core/identity-rollover.ts';
import { openContent } from '../../src/core/sealed-content.ts';
import { findMessage } from '../../src/db/repositories/messages.ts';
import { startSmtpIngress, type SmtpIngress } from '../../src/ingress/smtp-ingress.ts';
import { caHook } from '../../src/worker/rollover-check.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createTestCa, type TestCa } from '../support/pki.ts';
import { createSmimeCa, type Issued, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { waitForValue } from '../support/wait.ts';

const DAY = 24 * 3600_000;
type Files = Awaited<ReturnType<typeof scratch>>;

/** A shell script in the scratch directory, executable. */
async function script(files: Files, name: string, body: string): Promise<string> {
  const path = await files.file(name, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** A CA hook as a CA operator would write one: `openssl x509 -req` signs the CSR, copying its subjectAltName; prints cert + chain. */
async function issuingHook(files: Files, name: string, ca: SmimeCa): Promise<string> {
  const caCert = await files.file(`${name}-ca.crt`, ca.intermediate.certPem);
  const caKey = await files.file(`${name}-ca.key`, ca.intermediate.keyPem);
  const ext = await files.file(`${name}.ext`, 'keyUsage=critical,digitalSignature,keyEncipherment,keyAgreement\nextendedKeyUsage=emailProtection\n');
  return script(
    files,
    `${name}.sh`,
    `set -e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/req.pem"
env > "${files.dir}/env-$SEALPOST_OLD_SERIAL"
openssl req -in "$dir/req.pem" -noout -verify 2>/dev/null
openssl x509 -req -in "$dir/req.pem" -CA "${caCert}" -CAkey "${caKey}" -set_serial "0x$(openssl rand -hex 12)" \\
  -days 365 -sha256 -copy_extensions copyall -extfile "${ext}" -out "$dir/cert.pem" 2>/dev/null
cat "$dir/cert.pem" "${caCert}"`,
  );
}

describe('key rollover through a CA hook', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ingress: SmtpIngress;
  let files: Files;
  let smime: SmimeCa;
  let payroll: Issued;
  let hr: Issued;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;
  let adminAuth: string;
  let goodHook: string;
  let tls: TestCa;

  beforeAll(async () => {
    files = await scratch();
    peer = await startSmtpPeer();
    smime = await createSmimeCa('Rollover S/MIME Test');
    goodHook = await issuingHook(files, 'good', smime);
    tls = await createTestCa('Rollover Ingress TLS CA');
    const server = await tls.issueServer('localhost');
    t = await createTestApp({
      smtp: peer,
      env: {
        ROLLOVER_CA_HOOK: goodHook,
        ROLLOVER_HOOK_TIMEOUT_MS: '20000',
        SMTP_INGRESS_PORT: '0',
        SMTP_INGRESS_TLS_CERT_FILE: await files.file('server.crt', server.certPem),
        SMTP_INGRESS_TLS_KEY_FILE: await files.file('server.key', server.keyPem),
      },
    });
    ingress = await startSmtpIngress({ config: t.config, core: t.runtime.core, log: t.runtime.log });
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    adminAuth = await t.key(tenant.tenantId, 'admin');
    const res = await t.app.inject({ method: 'POST', url: '/v1/trust-anchors', headers: { authorization: adminAuth }, payload: { certificate: smime.root.certPem } });
    expect(res.statusCode, res.body).toBe(201);
    // RSA 2048 for payroll@, P-256 for hr@: both expire in three days.
    payroll = await smime.issueUser('Payroll', { emails: ['payroll@example.com'], notAfter: new Date(Date.now() + 3 * DAY) });
    hr = await smime.issueUser('HR', { kind: 'ec', emails: ['hr@example.com'], notAfter: new Date(Date.now() + 3 * DAY) });
    for (const user of [payroll, hr]) {
      const imported = await t.app.inject({
        method: 'POST', url: '/v1/identities', headers: { authorization: adminAuth },
        payload: { certificate: user.certPem, privateKey: user.keyPem, chain: smime.intermediate.certPem },
      });
      expect(imported.statusCode, imported.body).toBe(201);
    }
  });
  afterAll(async () => {
    await ingress?.close();
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  const identities = async () => {
    const res = await t.app.inject({ url: '/v1/identities', headers: { authorization: adminAuth } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as Array<Record<string, any>>;
  };
  const identityFor = async (serial: string) => (await identities()).find((i) => i.serial === serial)!;
  const signerFor = async (address: string) => (await chooseSigningIdentity(t.runtime.core, tenant.tenantId, address))?.id;

  it('records a failure and keeps the old identity in use when the hook fails, prints garbage, times out, or issues for another key or an untrusted CA', async () => {
    const other = await smime.issueUser('Someone else', { emails: ['payroll@example.com'] });
    const untrusted = await createSmimeCa('Untrusted Rollover CA');
    const hooks: Array<[string, RegExp]> = [
      [await script(files, 'exit1.sh', 'cat > /dev/null\necho "CA is down" >&2\nexit 1'), /the CA hook exited with 1: CA is down/],
      [await script(files, 'garbage.sh', 'cat > /dev/null\necho "this is not a certificate"'), /the CA hook's output is not a PEM certificate/],
      [await script(files, 'other-key.sh', `cat > /dev/null\ncat "${await files.file('other.crt', other.certPem)}"`), /the CA hook returned a certificate for another key, none for the new one/],
      [await issuingHook(files, 'untrusted', untrusted), /the issued certificate was refused \(certificate_rejected\).*no chain to a trusted anchor/],
      [await script(files, 'slow.sh', 'sleep 20'), /the CA hook did not finish within 500 ms/],
      [`${files.dir}/no-such-hook`, /could not be run: spawn .*ENOENT/],
    ];
    const before = (await identities()).length;
    const payrollSigner = await signerFor('payroll@example.com');
    expect(payrollSigner).toBeDefined();
    for (const [path, reason] of hooks) {
      const outcomes = await rollOverExpiringIdentities(t.runtime.core, { withinDays: 7, hook: caHook(path, 500) });
      expect(outcomes.map((o) => o.scope).sort()).toEqual(['hr@example.com', 'payroll@example.com']);
      for (const o of outcomes) {
        expect(o.outcome, path).toBe('failed');
        if (o.outcome === 'failed' && o.scope === 'payroll@example.com') expect(o.reason).toMatch(reason);
      }
    }
    expect(await identities()).toHaveLength(before);
    expect(await signerFor('payroll@example.com')).toBe(payrollSigner);

    const view = (await t.app.inject({ url: `/v1/identities/${payrollSigner}`, headers: { authorization: adminAuth } })).json();
    expect(view).toMatchObject({ successorId: null, rolledOverAt: null, predecessorId: null });
    expect(view.rolloverEvents).toHaveLength(hooks.length);
    expect(view.rolloverEvents.every((e: { type: string; successorId: string | null }) => e.type === 'rollover_failed' && e.successorId === null)).toBe(true);
    expect(view.rolloverEvents[0].reason).toMatch(/could not be run/); // newest first
  });

  it('issues successors through the worker job, which then signs new mail, while the old key still decrypts', async () => {
    await t.startWorker();
    const old = await identityFor(payroll.cert.serialNumber);
    const rolled = await waitForValue(async () => {
      const all = await identities();
      const done = all.filter((i) => i.successorId !== null);
      return done.length === 2 ? all : undefined;
    });

    // The audit trail: old ↔ successor, same scope, subject and key algorithm; the successor is valid now.
    const successor = rolled.find((i) => i.id === rolled.find((o) => o.id === old.id)!.successorId)!;
    expect(successor).toMatchObject({
      scope: 'payroll@example.com', predecessorId: old.id, successorId: null, subject: old.subject,
      keyAlgorithm: 'rsa-2048', status: 'active', validation: { ok: true },
    });
    expect(successor.serial).not.toBe(old.serial);
    expect(new Date(successor.notAfter).getTime()).toBeGreaterThan(Date.now() + 300 * DAY);
    const oldView = (await t.app.inject({ url: `/v1/identities/${old.id}`, headers: { authorization: adminAuth } })).json();
    expect(oldView).toMatchObject({ status: 'active', successorId: successor.id, rolledOverAt: expect.any(String) });
    expect(oldView.rolloverEvents[0]).toMatchObject({ type: 'rollover_issued', successorId: successor.id, reason: null });
    const hrSuccessor = rolled.find((i) => i.scope === 'hr@example.com' && i.predecessorId !== null)!;
    expect(hrSuccessor).toMatchObject({ keyAlgorithm: 'ec-prime256v1', status: 'active', validation: { ok: true } });

    // The hook saw the request's facts and nothing of the service's environment.
    const env = (await run('cat', [`${files.dir}/env-${payroll.cert.serialNumber}`])).stdout.toString();
    expect(env).toContain(`SEALPOST_TENANT_ID=${tenant.tenantId}`);
    expect(env).toContain('SEALPOST_SCOPE=payroll@example.com');
    expect(env).toContain(`SEALPOST_OLD_IDENTITY_ID=${old.id}`);
    expect(env).not.toMatch(/MASTER_KEY|DATABASE_URL/);

    // Visible: one job left, due again in a day; the counter.
    const jobs = (await t.runtime.database.pool.query(`SELECT run_at > now() + interval '23 hours' AS later FROM outbox WHERE kind = 'identity_rollover'`)).rows;
    expect(jobs).toEqual([{ later: true }]);
    const metrics = await t.runtime.metrics.registry.getSingleMetricAsString('sealpost_identity_rollovers_total');
    expect(metrics).toContain('sealpost_identity_rollovers_total{outcome="issued"} 2');

    // A second run finds nothing due: each has its successor.
    expect(await rollOverExpiringIdentities(t.runtime.core, { withinDays: 7, hook: caHook(goodHook, 20_000) })).toEqual([]);

    // The next outbound message is signed with the successor (openssl shows its serial).
    const submitted = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to: ['bob@example.org'] }) });
    expect(submitted.statusCode, submitted.body).toBe(202);
    const mail = await peer.mailTo('bob@example.org', 30_000);
    const signerPem = `${files.dir}/signer.pem`;
    const verified = await run('openssl', ['cms', '-verify', '-CAfile', await files.file('ca.pem', smime.root.certPem), '-signer', signerPem], mail.raw);
    expect(verified.code, verified.stderr.toString()).toBe(0);
    const serial = (await run('openssl', ['x509', '-in', signerPem, '-noout', '-serial'])).stdout.toString().trim();
    expect(serial.replace(/^serial=/, '').toLowerCase().replace(/^0+/, '')).toBe(successor.serial.toLowerCase().replace(/^0+/, ''));

    // The SMTP ingress still decrypts mail encrypted to the old certificate (and to the new one).
    const client = nodemailer.createTransport({
      host: '127.0.0.1', port: ingress.port, requireTLS: true,
      tls: { ca: tls.certPem, servername: 'localhost' },
      auth: { user: tenant.keyId, pass: tenant.token.slice(tenant.token.indexOf('.') + 1) },
    });
    const successorCert = (await t.runtime.database.pool.query('SELECT certificate FROM signing_identities WHERE id = $1', [successor.id])).rows[0].certificate as Buffer;
    const successorPem = `-----BEGIN CERTIFICATE-----\n${successorCert.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    for (const [subject, recipientPem] of [['To the old key', payroll.certPem], ['To the new key', successorPem]] as const) {
      const encrypted = await run('openssl', [
        'cms', '-encrypt', '-aes256', '-from', 'partner@partner.example', '-to', 'payroll@example.com', '-subject', subject,
        await files.file(`to-${subject.length}-${subject.at(-4)}.crt`, recipientPem),
      ], Buffer.from(`Content-Type: text/plain; charset=utf-8\r\n\r\n${subject}: readable.\r\n`));
      expect(encrypted.code, encrypted.stderr.toString()).toBe(0);
      const info = await client.sendMail({ envelope: { from: 'partner@partner.example', to: ['payroll@example.com'] }, raw: encrypted.stdout });
      const id = /queued as ([0-9a-f-]{36})/.exec(info.response)![1]!;
      const row = (await findMessage(t.runtime.database.db, tenant.tenantId, id))!;
      const content = openContent(t.runtime.cipher, id, row.content);
      expect(content.subject).toBe(`[secure] ${subject}`);
      expect(content.text?.trim()).toBe(`${subject}: readable.`);
    }
    client.close();
  });
});

describe('key rollover without a hook', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('queues no rollover job and changes nothing: the warning is all', async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    const ca = await createSmimeCa('No Hook Test');
    const soon = await ca.issueUser('Soon', { emails: ['payroll@example.com'], notAfter: new Date(Date.now() + 2 * DAY) });
    const { tenantId } = await t.tenant({ senderDomains: ['example.com'] });
    const admin = { tenantId, keyId: 'test', role: 'admin' as const, senderDomains: ['example.com'] };
    await t.app.inject({ method: 'POST', url: '/v1/trust-anchors', headers: { authorization: await t.key(tenantId, 'admin') }, payload: { certificate: ca.root.certPem } });
    const imported = await importIdentity(t.runtime.core, admin, { certificate: soon.certPem, privateKey: soon.keyPem, chain: ca.intermediate.certPem });
    await t.startWorker();
    const jobs = (await t.runtime.database.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'identity_rollover'`)).rows[0].n;
    expect(jobs).toBe(0);
    const rows = (await t.runtime.database.pool.query('SELECT id FROM signing_identities WHERE tenant_id = $1', [tenantId])).rows;
    expect(rows).toEqual([{ id: imported.id }]);
    expect((await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM identity_events')).rows[0].n).toBe(0);
  });
});
