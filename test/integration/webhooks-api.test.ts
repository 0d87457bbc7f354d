import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';

/** Registering a webhook: admin only, one per tenant, URL rules, the secret shown once and stored sealed. */
describe('webhooks: registration', () => {
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp['tenant']>>;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    tenant = await t.tenant({ senderDomains: ['example.com'] });
    admin = await t.key(tenant.tenantId, 'admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, auth: string, payload?: object) =>
    t.app.inject({ method, url, headers: { authorization: auth }, ...(payload && { payload }) });
  const count = async () => (await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM webhooks')).rows[0].n as number;

  it('refuses bad URLs with 422 invalid_webhook_url naming the problem, and stores nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['http://hooks.example.com/sealpost', /must use https:\/\//],
      ['ftp://hooks.example.com/', /must start with https:\/\//],
      ['https://user:pw@hooks.example.com/', /user name or password/],
      ['https://hooks.example.com/#frag', /fragment/],
      ['hooks.example.com/sealpost', /not an absolute URL/],
      ['https://', /not an absolute URL/],
      [`https://hooks.example.com/${'a'.repeat(2040)}`, /longer than 2048/],
      ['http://10.0.0.1/hook', /must use https:\/\//],
    ];
    for (const [url, message] of cases) {
      const res = await call('PUT', '/v1/webhook', admin, { url });
      expect(res.statusCode, url.slice(0, 60)).toBe(422);
      expect(res.json().code, url.slice(0, 60)).toBe('invalid_webhook_url');
      expect(res.json().message, url.slice(0, 60)).toMatch(message);
      expect(res.json().details).toEqual({ field: 'url' });
    }
    // Not a string, missing, or unknown fields: refused by the schema, before the core.
    const schemaCases: Array<[object, string]> = [
      [{ url: 42 }, 'invalid_field'],
      [{}, 'missing_field'],
      [{ url: 'https://hooks.example.com/', secret: 'mine' }, 'unknown_field'],
    ];
    for (const [payload, code] of schemaCases) {
      const res = await call('PUT', '/v1/webhook', admin, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect(await count()).toBe(0);
  });

  it('creates with a secret shown once, keeps it on a URL change, rotates on request', async () => {
    expect((await call('GET', '/v1/webhook', admin)).statusCode).toBe(404);
    const created = await call('PUT', '/v1/webhook', admin, { url: 'https://hooks.example.com/sealpost' });
    expect(created.statusCode, created.body).toBe(201);
    const secret = created.json().secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.json().events).toEqual(['delivered', 'failed', 'opened', 'accepted_by_recipient', 'refused', 'expired']);

    const shown = await call('GET', '/v1/webhook', admin);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ url: 'https://hooks.example.com/sealpost' });
    expect(shown.json().secret).toBeUndefined();

    // Stored sealed: the secret is not in the row.
    const row = (await t.runtime.database.pool.query('SELECT secret FROM webhooks WHERE tenant_id = $1', [tenant.tenantId])).rows[0];
    expect(row.secret.toString('latin1')).not.toContain(secret.slice(6));
    expect(t.runtime.cipher.open(row.secret, `webhook-secret:${tenant.tenantId}`).toString('utf8')).toBe(secret);

    const changed = await call('PUT', '/v1/webhook', admin, { url: 'http://127.0.0.1:9/hook' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().secret).toBeUndefined();
    const after = (await t.runtime.database.pool.query('SELECT secret, url FROM webhooks WHERE tenant_id = $1', [tenant.tenantId])).rows[0];
    expect(after.url).toBe('http://127.0.0.1:9/hook');
    expect(t.runtime.cipher.open(after.secret, `webhook-secret:${tenant.tenantId}`).toString('utf8')).toBe(secret);

    const rotated = await call('PUT', '/v1/webhook', admin, { url: 'http://[::1]:9/hook', rotateSecret: true });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(secret);
    expect(rotated.json().url).toBe('http://[::1]:9/hook');
    expect((await call('PUT', '/v1/webhook', admin, { url: 'http://localhost:9/hook' })).statusCode).toBe(200);
    expect(await count()).toBe(1);
  });

  it('is the tenant admin\'s: other roles 403, another tenant sees 404 and cannot delete it', async () => {
    expect((await call('GET', '/v1/webhook', tenant.auth)).json().code).toBe('forbidden');
    expect((await call('PUT', '/v1/webhook', await t.key(tenant.tenantId, 'auditor'), { url: 'https://x.example/' })).statusCode).toBe(403);

    const other = await t.tenant();
    const otherAdmin = await t.key(other.tenantId, 'admin');
    expect((await call('GET', '/v1/webhook', otherAdmin)).statusCode).toBe(404);
    expect((await call('DELETE', '/v1/webhook', otherAdmin)).statusCode).toBe(404);
    expect((await call('GET', '/v1/webhook', admin)).statusCode).toBe(200);

    // Attempts about another tenant's message: 404, as if it did not exist.
    const sent = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission() });
    expect(sent.statusCode).toBe(202);
    const foreign = await call('GET', `/v1/webhook/deliveries?messageId=${sent.json().id}`, otherAdmin);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    const own = await call('GET', `/v1/webhook/deliveries?messageId=${sent.json().id}`, admin);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ items: [], nextCursor: null });
    expect((await call('GET', '/v1/webhook/deliveries?limit=0', admin)).json().code).toBe('invalid_field');
    expect((await call('GET', '/v1/webhook/deliveries?cursor=abc', admin)).json().code).toBe('invalid_field');
  });

  it('queues a webhook job in the transaction of a webhook-worthy event, not before', async () => {
    const sent = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission() });
    const jobs = await t.runtime.database.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'webhook' AND message_id = $1`, [sent.json().id]);
    // `submitted` is not sent to webhooks.
    expect(jobs.rows[0].n).toBe(0);
  });

  it('deletes, then 404', async () => {
    expect((await call('DELETE', '/v1/webhook', admin)).statusCode).toBe(204);
    expect((await call('GET', '/v1/webhook', admin)).statusCode).toBe(404);
    expect((await call('DELETE', '/v1/webhook', admin)).statusCode).toBe(404);
    expect(await count()).toBe(0);
  });
});
