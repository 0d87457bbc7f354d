import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { tlsOptions } from '../../src/server.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createTestCa, type Issued, type TestCa } from '../support/pki.ts';
import { envelope, operation } from '../support/soap.ts';

interface Answer {
  status: number;
  body: string;
}

/**
 * HTTPS with TLS_CLIENT_CA_FILE: clients must present a certificate from that CA,
 * and one whose subject CN is an API key id authenticates as that key on both doors.
 */
describe('mutual TLS', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let ca: TestCa;
  let port: number;
  let keyId: string;

  beforeAll(async () => {
    t = await createTestApp();
    ({ keyId } = await t.tenant());
    ca = await createTestCa('Client and Server Test CA');
    const server = await ca.issueServer('localhost');
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-mtls-'));
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const config = loadConfig({
      TLS_CERT_FILE: file('server.crt', server.certPem),
      TLS_KEY_FILE: file('server.key', server.keyPem),
      TLS_CLIENT_CA_FILE: file('clients.crt', ca.certPem),
    });
    app = await buildApp({ config: t.config, core: t.runtime.core, pool: t.runtime.database.pool, log: t.runtime.log, https: tlsOptions(config)! });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });

  const call = (path: string, options: { client?: Issued; method?: string; body?: string; headers?: Record<string, string> } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: options.method ?? 'GET',
          ca: ca.certPem,
          servername: 'localhost',
          headers: options.headers,
          ...(options.client && { cert: options.client.certPem, key: options.client.keyPem }),
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });

  it('authenticates REST by a client certificate naming a key', async () => {
    const res = await call('/v1/messages', { client: await ca.issueClient(keyId) });
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body).items).toEqual([]);
  });

  it('authenticates SOAP by the same certificate when the envelope carries no credentials', async () => {
    const res = await call('/soap/v1', {
      client: await ca.issueClient(keyId),
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: envelope(operation('ListMessages', { limit: 1 })),
    });
    expect(res.status, res.body).toBe(200);
    expect(res.body).toContain('ListMessagesResponse');
  });

  it('refuses a certificate that names no key, and lets explicit credentials decide when sent', async () => {
    const stranger = await call('/v1/messages', { client: await ca.issueClient('sp_0000000000000000') });
    expect(stranger.status).toBe(401);
    expect(JSON.parse(stranger.body).message).toMatch(/client certificate names no active API key/);
    const wrongBearer = await call('/v1/messages', { client: await ca.issueClient(keyId), headers: { authorization: 'Bearer sp_0000000000000000.wrongwrongwrongwrong' } });
    expect(wrongBearer.status).toBe(401);
  });

  it('refuses a client without a certificate at the TLS handshake', async () => {
    await expect(call('/healthz')).rejects.toThrow();
    expect((await call('/healthz', { client: await ca.issueClient('monitoring') })).status).toBe(200);
  });
});
