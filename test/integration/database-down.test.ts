import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { openRuntime, type Runtime } from '../../src/runtime.ts';
import { freePort } from '../support/global-setup.ts';
import { submission } from '../support/app.ts';

/** With the database unreachable, callers are told to come back (503), not that we broke (500). */
describe('database unreachable', () => {
  let runtime: Runtime;
  let app: FastifyInstance;

  beforeAll(async () => {
    const config = loadConfig({
      DATABASE_URL: `postgres://postgres:x@127.0.0.1:${await freePort()}/sealpost`,
      SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
    });
    runtime = await openRuntime(config, createLogger('silent'), { migrate: false });
    app = await buildApp({ config, core: runtime.core, pool: runtime.database.pool, log: runtime.log });
  });
  afterAll(async () => {
    await app?.close();
    await runtime?.close();
  });

  it('answers 503 unavailable with Retry-After to a submission', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: `Bearer sp_0123456789abcdef.${'s'.repeat(43)}` },
      payload: submission(),
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('unavailable');
    expect(res.headers['retry-after']).toBe('5');
  });

  it('is not ready, but alive', async () => {
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });
});
