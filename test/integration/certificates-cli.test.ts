import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createSmimeCa, opensslPkcs12, type SmimeCa } from '../support/smime-certs.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

describe('sealpost cert import', () => {
  let t: TestApp;
  let ca: SmimeCa;
  let dir: string;
  const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '', DATABASE_URL: t.database.url, SEALPOST_MASTER_KEY: t.config.SEALPOST_MASTER_KEY!, ...extra });
  const sealpost = (args: string[], extra?: Record<string, string>) => run(process.execPath, [bin, 'cert', 'import', ...args], { env: env(extra) });
  const file = async (name: string, content: string | Buffer) => {
    await writeFile(join(dir, name), content);
    return join(dir, name);
  };

  beforeAll(async () => {
    t = await createTestApp();
    ca = await createSmimeCa();
    dir = await mkdtemp(join(tmpdir(), 'sealpost-cert-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('imports a global anchor, a legacy PKCS#12 identity with the password from the environment, a PEM identity and a recipient certificate', async () => {
    const { tenantId, auth } = await t.tenant({ role: 'admin' });
    const anchor = JSON.parse((await sealpost(['--anchor', '--cert', await file('root.pem', ca.root.certPem), '--json'])).stdout);
    expect(anchor).toMatchObject({ global: true, subject: ca.root.cert.subject });

    const payroll = await ca.issueUser('Payroll', { kind: 'ec', emails: ['payroll@acme.example'] });
    const p12 = await file('payroll.p12', await opensslPkcs12(payroll, [ca.intermediate], 'cli secret', { legacy: true }));
    const { stdout } = await sealpost(['--tenant', tenantId, '--p12', p12, '--password-env', 'P12_PASSWORD'], { P12_PASSWORD: 'cli secret' });
    expect(stdout).toMatch(/^signing identity [0-9a-f-]{36} for payroll@acme\.example \(ec-prime256v1\)/);

    const domain = await ca.issueUser('Acme', { domains: ['acme.example'] });
    const pem = JSON.parse(
      (await sealpost(['--tenant', tenantId, '--cert', await file('d.pem', domain.certPem), '--key', await file('d.key', domain.keyPem), '--chain', await file('chain.pem', ca.intermediate.certPem), '--json'])).stdout,
    );
    expect(pem).toMatchObject({ scope: 'acme.example', status: 'active', validation: { ok: true } });

    const anna = await ca.issueUser('Anna', { emails: ['anna@customer.example'] });
    const recipient = JSON.parse((await sealpost(['--tenant', tenantId, '--recipient', '--cert', await file('anna.pem', anna.certPem + ca.intermediate.certPem), '--json'])).stdout);
    expect(recipient).toMatchObject({ scope: 'anna@customer.example', source: 'import' });

    const listed = await t.app.inject({ url: '/v1/identities', headers: { authorization: auth } });
    expect(listed.json().items.map((i: { scope: string }) => i.scope).sort()).toEqual(['acme.example', 'payroll@acme.example']);
  });

  it('refuses a wrong password, a missing variable and a missing tenant with a clear message', async () => {
    const { tenantId } = await t.tenant({ role: 'admin' });
    const user = await ca.issueUser('Wrong', { emails: ['w@acme.example'] });
    const p12 = await file('w.p12', await opensslPkcs12(user, [ca.intermediate], 'right'));
    const failing = (args: string[], extra?: Record<string, string>) => sealpost(args, extra).then(() => { throw new Error('succeeded'); }, (e: { code: number; stderr: string }) => e);
    const wrong = await failing(['--tenant', tenantId, '--p12', p12, '--password-env', 'PW'], { PW: 'wrong' });
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringMatching(/sealpost: the PKCS#12 password is wrong/) });
    expect((await failing(['--tenant', tenantId, '--p12', p12, '--password-env', 'UNSET_VAR'])).stderr).toMatch(/UNSET_VAR .* is not set/);
    expect((await failing(['--tenant', tenantId, '--p12', p12])).stderr).toMatch(/--password-env VAR is required/);
    expect((await failing(['--p12', p12, '--password-env', 'PW'], { PW: 'right' })).stderr).toMatch(/--tenant is required/);
    expect((await failing(['--tenant', '00000000-0000-0000-0000-000000000000', '--p12', p12, '--password-env', 'PW'], { PW: 'right' })).stderr).toMatch(/tenant .* does not exist/);
  });
});
