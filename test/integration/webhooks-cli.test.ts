import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { sealpostCli } from '../support/cli.ts';


/** `sealpost webhook set|show|delete`: the operator as the tenant's admin, the same rules as REST. */
describe('sealpost webhook', () => {
  let t: TestApp;
  const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_URL: t.database.url, SEALPOST_MASTER_KEY: t.config.SEALPOST_MASTER_KEY!, LOG_LEVEL: 'silent' });
  const { sealpost, failing } = sealpostCli(env);

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('sets (secret printed once), shows, refuses bad URLs, deletes', async () => {
    const tenant = await t.tenant();
    const set = JSON.parse((await sealpost('webhook', 'set', 'https://erp.example.com/hook', '--tenant', tenant.tenantId, '--json')).stdout);
    expect(set).toMatchObject({ url: 'https://erp.example.com/hook', secret: expect.stringMatching(/^whsec_/) });
    const shown = (await sealpost('webhook', 'show', '--tenant', tenant.tenantId)).stdout;
    expect(shown).toContain('https://erp.example.com/hook');
    expect(shown).not.toContain('whsec_');

    const bad = await failing('webhook', 'set', 'http://erp.example.com/hook', '--tenant', tenant.tenantId);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('must use https://');
    expect((await failing('webhook', 'show', '--tenant', '00000000-0000-4000-8000-000000000000')).stderr).toContain('does not exist');
    expect((await failing('webhook', 'set', '--tenant', tenant.tenantId)).code).toBe(2);

    expect((await sealpost('webhook', 'delete', '--tenant', tenant.tenantId)).stdout).toContain('deleted');
    expect((await failing('webhook', 'show', '--tenant', tenant.tenantId)).stderr).toContain('no webhook');
  });
});
