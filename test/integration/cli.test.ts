import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { sealpostCli, runProcess, sealpostBin } from '../support/cli.ts';


describe('the sealpost CLI', () => {
  let t: TestApp;
  const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_URL: t.database.url, SEALPOST_MASTER_KEY: t.config.SEALPOST_MASTER_KEY! });
  const { sealpost, failing } = sealpostCli(env);

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('creates a tenant whose first key submits messages', async () => {
    const { stdout } = await sealpost('tenant', 'create', 'Acme Payroll', '--sender-domain', 'Acme.Example', '--json');
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ name: 'Acme Payroll', role: 'submitter', senderDomains: ['acme.example'] });
    expect(created.apiKey).toMatch(/^sp_[a-z0-9]{16}\.[A-Za-z0-9_-]{43}$/);

    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: `Bearer ${created.apiKey}` },
      payload: submission({ from: 'payroll@acme.example' }),
    });
    expect(ok.statusCode).toBe(202);
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: `Bearer ${created.apiKey}` },
      payload: submission({ from: 'payroll@example.com' }),
    });
    expect(elsewhere.json().code).toBe('sender_not_allowed');
  });

  it('creates keys with a role, and refuses unknown roles and tenants with a clear message', async () => {
    const { stdout } = await sealpost('tenant', 'create', 'Audited', '--json');
    const { tenantId } = JSON.parse(stdout);
    const auditor = JSON.parse((await sealpost('key', 'create', '--tenant', tenantId, '--role', 'auditor', '--json')).stdout);
    expect(auditor).toMatchObject({ tenantId, role: 'auditor' });
    expect(auditor.passwordDigest).toBeUndefined();
    const digest = JSON.parse((await sealpost('key', 'create', '--tenant', tenantId, '--role', 'submitter', '--password-digest', '--json')).stdout);
    expect(digest).toMatchObject({ tenantId, role: 'submitter', passwordDigest: true });
    const denied = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: `Bearer ${auditor.apiKey}` }, payload: submission() });
    expect(denied.statusCode).toBe(403);

    const badRole = await failing('key', 'create', '--tenant', tenantId, '--role', 'root');
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toMatch(/role must be one of submitter, auditor, admin/);
    const noTenant = await failing('key', 'create', '--tenant', '00000000-0000-0000-0000-000000000000', '--role', 'auditor');
    expect(noTenant.stderr).toMatch(/tenant .* does not exist/);
  });

  it('migrates idempotently and rejects unknown commands and bad configuration', async () => {
    await expect(sealpost('migrate')).resolves.toBeDefined();
    expect((await failing('frobnicate')).code).toBe(2);
    const badConfig = await runProcess(process.execPath, [sealpostBin, 'migrate'], { env: { ...env(), PORT: 'eighty' } }).catch((e: { code: number; stderr: string }) => e);
    expect(badConfig).toMatchObject({ code: 1 });
    expect((badConfig as { stderr: string }).stderr).toMatch(/PORT/);
  });
});
