import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createApiKey } from '../../src/core/tenants.ts';
import { passwordDigest } from '../../src/security/password-digest.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { credentialsOf, faultOf, operation, SOAP11, SP, soapPost } from '../support/soap.ts';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
const SECURITY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0';

/** A UsernameToken with PasswordDigest as WCF and WSS4J write it. */
function digestEnvelope(token: string, body: string, options: { created?: Date; nonce?: Buffer; secret?: string } = {}): string {
  const { keyId, secret } = credentialsOf(token);
  const nonce = options.nonce ?? randomBytes(16);
  const created = (options.created ?? new Date()).toISOString();
  const digest = passwordDigest(nonce, created, options.secret ?? secret).toString('base64');
  return (
    `<soapenv:Envelope xmlns:soapenv="${SOAP11}" xmlns:sp="${SP}"><soapenv:Header>` +
    `<wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}" soapenv:mustUnderstand="1"><wsse:UsernameToken>` +
    `<wsse:Username>${keyId}</wsse:Username>` +
    `<wsse:Password Type="${PROFILE}#PasswordDigest">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${SECURITY}#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created>` +
    `</wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

describe('SOAP WS-Security PasswordDigest', () => {
  let t: TestApp;
  let digestKey: string;
  let plainKey: string;
  const list = operation('ListMessages', { limit: 5 });

  beforeAll(async () => {
    t = await createTestApp();
    const { tenantId, token } = await t.tenant();
    plainKey = token;
    digestKey = (await createApiKey(t.runtime.database.db, tenantId, 'submitter', { passwordDigest: t.runtime.cipher })).apiKey;
  });
  afterAll(async () => t?.close());

  it('authenticates a fresh digest from a key created for it', async () => {
    const res = await soapPost(t.app, digestEnvelope(digestKey, list));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain('ListMessagesResponse');
  });

  it('refuses the same envelope sent again (replayed nonce)', async () => {
    const xml = digestEnvelope(digestKey, list);
    expect((await soapPost(t.app, xml)).statusCode).toBe(200);
    const replay = faultOf(await soapPost(t.app, xml));
    expect(replay.code).toBe('unauthorized');
    expect(replay.message).toMatch(/Nonce was used before/);
  });

  it('refuses a Created time outside the five-minute window', async () => {
    const stale = faultOf(await soapPost(t.app, digestEnvelope(digestKey, list, { created: new Date(Date.now() - 10 * 60_000) })));
    expect(stale).toMatchObject({ code: 'unauthorized' });
    expect(stale.message).toMatch(/more than 5 minutes/);
  });

  it('refuses a digest of the wrong secret, and keys not created for digests', async () => {
    const wrong = faultOf(await soapPost(t.app, digestEnvelope(digestKey, list, { secret: 'not-the-secret' })));
    expect(wrong).toMatchObject({ faultcode: expect.stringMatching(/Client$/), code: 'unauthorized' });
    const plain = faultOf(await soapPost(t.app, digestEnvelope(plainKey, list)));
    expect(plain.code).toBe('unauthorized');
    expect(plain.message).toMatch(/--password-digest/);
  });

  it('keeps the secret sealed at rest', async () => {
    const { secret, keyId } = credentialsOf(digestKey);
    const { rows } = await t.runtime.database.pool.query(
      'SELECT digest_secret IS NOT NULL AS sealed, position($1::bytea in digest_secret) AS plain FROM api_keys WHERE id = $2',
      [Buffer.from(secret), keyId],
    );
    expect(rows).toEqual([{ sealed: true, plain: 0 }]);
    const { rows: others } = await t.runtime.database.pool.query('SELECT digest_secret FROM api_keys WHERE id = $1', [credentialsOf(plainKey).keyId]);
    expect(others[0].digest_secret).toBeNull();
  });
});
