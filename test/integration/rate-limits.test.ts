import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { credentialsOf, envelope, faultOf, operation, soapPost } from '../support/soap.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('rate limits on both doors', () => {
  it('refuses a client that keeps guessing credentials, even with a right key, on REST and SOAP alike', async () => {
    t = await createTestApp({ env: { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '60' } });
    const { auth, token } = await t.tenant();
    for (let i = 0; i < 3; i++) {
      const guess = await t.app.inject({ url: '/v1/messages', headers: { authorization: `Bearer sp_0123456789abcdef.guess${i}guess${i}guess${i}` } });
      expect(guess.statusCode).toBe(401);
    }
    const blocked = await t.app.inject({ url: '/v1/messages', headers: { authorization: auth } });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(50);

    const soap = await soapPost(t.app, envelope(operation('ListMessages'), credentialsOf(token)));
    expect(faultOf(soap).code).toBe('rate_limited');
    expect(soap.headers['retry-after']).toBeDefined();
    const { rows } = await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages');
    expect(rows[0].n).toBe(0);
  });

  it("meters each key's requests per minute", async () => {
    t = await createTestApp({ env: { RATE_LIMIT_PER_KEY_PER_MINUTE: '3' } });
    const busy = await t.tenant();
    const other = await t.tenant();
    const post = (auth: string) => t!.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission() });
    for (let i = 0; i < 3; i++) expect((await post(busy.auth)).statusCode).toBe(202);
    const over = await post(busy.auth);
    expect(over.statusCode).toBe(429);
    expect(over.json().message).toMatch(/3 requests per minute/);
    expect((await post(other.auth)).statusCode).toBe(202);
    const { rows } = await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages');
    expect(rows[0].n).toBe(4);
  });
});
