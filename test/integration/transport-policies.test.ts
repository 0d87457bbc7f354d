import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createTestCa } from '../support/pki.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

describe('transport policies: REST /v1/transport-policies and sealpost policy', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dir = await mkdtemp(join(tmpdir(), 'sealpost-policy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await t?.close();
  });

  const call = (auth: string, method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: { authorization: auth }, ...(payload && { payload }) });

  it('creates, replaces, reads, lists and deletes a policy; the relay password is sealed and never shown', async () => {
    const { auth, tenantId } = await t.tenant({ role: 'admin' });
    const ca = await createTestCa('Partner CA');
    const created = await call(auth, 'PUT', '/v1/transport-policies/Partner.Example', {
      policy: 'enforced-tls',
      route: 'relay',
      relayUrl: 'smtp://gateway:s3cret-pass@relay.partner.example:587',
      caPem: ca.certPem,
      business: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ domain: 'partner.example', policy: 'enforced-tls', route: 'relay', relay: 'smtp://gateway:***@relay.partner.example:587', business: true });
    expect(created.body).not.toContain('s3cret-pass');
    const { rows } = await t.runtime.database.pool.query('SELECT relay_url FROM transport_policies WHERE tenant_id = $1', [tenantId]);
    expect(Buffer.from(rows[0].relay_url).toString('latin1')).not.toContain('s3cret-pass');

    const replaced = await call(auth, 'PUT', '/v1/transport-policies/partner.example', { policy: 'opportunistic' });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toMatchObject({ policy: 'opportunistic', route: 'mx', relay: null, caPem: null, business: false });
    expect((await call(auth, 'GET', '/v1/transport-policies/partner.example')).json().policy).toBe('opportunistic');
    expect((await call(auth, 'GET', '/v1/transport-policies')).json().items.map((p: { domain: string }) => p.domain)).toEqual(['partner.example']);

    // Another tenant's admin sees nothing of it; a submitter may not manage policies.
    const other = await t.tenant({ role: 'admin' });
    expect((await call(other.auth, 'GET', '/v1/transport-policies/partner.example')).statusCode).toBe(404);
    expect((await call(other.auth, 'DELETE', '/v1/transport-policies/partner.example')).statusCode).toBe(404);
    expect((await call(other.auth, 'GET', '/v1/transport-policies')).json().items).toEqual([]);
    const submitter = await t.key(tenantId, 'submitter');
    expect((await call(submitter, 'GET', '/v1/transport-policies')).statusCode).toBe(403);

    expect((await call(auth, 'DELETE', '/v1/transport-policies/partner.example')).statusCode).toBe(204);
    expect((await call(auth, 'GET', '/v1/transport-policies/partner.example')).statusCode).toBe(404);
  });

  it('refuses bad input with a 4xx naming the problem and stores nothing', async () => {
    const { auth, tenantId } = await t.tenant({ role: 'admin' });
    const cases: Array<[string, object, number, string, string?]> = [
      ['example.org', { policy: 'paranoid' }, 422, 'invalid_field', 'policy'],
      ['example.org', {}, 422, 'missing_field', 'policy'],
      ['example.org', { policy: 'enforced-tls', colour: 'red' }, 422, 'unknown_field', 'colour'],
      ['example.org', { policy: 'enforced-tls', business: 'yes' }, 422, 'invalid_field', 'business'],
      ['not a domain', { policy: 'enforced-tls' }, 422, 'invalid_field', 'domain'],
      ['localhost', { policy: 'enforced-tls' }, 422, 'invalid_field', 'domain'],
      ['example.org', { policy: 'enforced-tls', route: 'relay' }, 422, 'missing_field', 'relayUrl'],
      ['example.org', { policy: 'enforced-tls', route: 'relay', relayUrl: 'http://relay.example.org' }, 422, 'invalid_field', 'relayUrl'],
      ['example.org', { policy: 'enforced-tls', relayUrl: 'smtp://relay.example.org' }, 422, 'invalid_field', 'relayUrl'],
      ['example.org', { policy: 'enforced-tls', caPem: 'not a certificate' }, 422, 'invalid_certificate', 'caPem'],
      ['example.org', { policy: 'enforced-tls', caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, 422, 'invalid_certificate', 'caPem'],
      ['example.org', { policy: 'enforced-tls', clientCertFile: '/etc/c.pem', clientKeyFile: '/etc/k.pem' }, 422, 'invalid_field', 'clientCertFile'],
      ['example.org', { policy: 'mutual-tls', clientCertFile: '/etc/c.pem' }, 422, 'invalid_field', 'clientKeyFile'],
      ['example.org', { policy: 'mutual-tls', clientCertFile: 'c.pem', clientKeyFile: 'k.pem' }, 422, 'invalid_field', 'clientCertFile'],
    ];
    for (const [domain, body, status, code, field] of cases) {
      const res = await call(auth, 'PUT', `/v1/transport-policies/${encodeURIComponent(domain)}`, body);
      expect(res.statusCode, `${domain} ${JSON.stringify(body)}: ${res.body}`).toBe(status);
      expect(res.json().code, res.body).toBe(code);
      if (field) expect(res.json().details?.field, res.body).toBe(field);
    }
    const { rows } = await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM transport_policies WHERE tenant_id = $1', [tenantId]);
    expect(rows[0].n).toBe(0);
  });

  it('sealpost policy set, list and delete use the same rules as REST', async () => {
    const { tenantId, auth } = await t.tenant({ role: 'admin' });
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: t.database.url, SEALPOST_MASTER_KEY: t.config.SEALPOST_MASTER_KEY!, LOG_LEVEL: 'silent' };
    const sealpost = (args: string[], extra: Record<string, string> = {}) => run(process.execPath, [bin, 'policy', ...args], { env: { ...env, ...extra } });
    const cert = join(dir, 'client.crt');
    const key = join(dir, 'client.key');
    await writeFile(cert, 'x');
    await writeFile(key, 'x');
    const set = JSON.parse(
      (await sealpost(['set', 'bank.example', '--tenant', tenantId, '--policy', 'mutual-tls', '--client-cert', cert, '--client-key', key, '--business', '--json'])).stdout,
    );
    expect(set).toMatchObject({ domain: 'bank.example', policy: 'mutual-tls', clientCertFile: cert, clientKeyFile: key, business: true });
    await sealpost(['set', 'relay.example', '--tenant', tenantId, '--policy', 'enforced-tls', '--route', 'relay', '--relay-url-env', 'RELAY'], {
      RELAY: 'smtps://user:pw-from-env@smarthost.example:465',
    });
    const listed = (await sealpost(['list', '--tenant', tenantId])).stdout;
    expect(listed).toContain('bank.example: mutual-tls via mx');
    expect(listed).toContain('relay.example: enforced-tls via relay (relay smtps://user:***@smarthost.example:465)');
    expect(listed).not.toContain('pw-from-env');
    expect((await call(auth, 'GET', '/v1/transport-policies/bank.example')).json().business).toBe(true);

    const bad = await sealpost(['set', 'bank.example', '--tenant', tenantId, '--policy', 'paranoid']).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: expect.any(Number) });
    expect((bad as { stderr: string }).stderr).toMatch(/policy must be one of opportunistic, enforced-tls, mutual-tls/);

    await sealpost(['delete', 'bank.example', '--tenant', tenantId]);
    expect((await call(auth, 'GET', '/v1/transport-policies/bank.example')).statusCode).toBe(404);
  });
});
