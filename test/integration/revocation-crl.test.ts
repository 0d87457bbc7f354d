import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrlFetcher } from '../../src/pki/crl-fetcher.ts';
import { createRevocationNetwork } from '../../src/pki/revocation-network.ts';
import { validateCertificate, type ValidationOptions } from '../../src/pki/validate.ts';
import { x509 } from '../../src/pki/x509.ts';
import { createCmsEngine } from '../../src/smime/engine.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { freePort } from '../support/local.ts';
import { startLoopbackServer, type LoopbackServer } from '../support/revocation-servers.ts';
import { createSmimeCa, type Issued, type SmimeCa } from '../support/smime-certs.ts';

// CRLs fetched over HTTP from a loopback server: distribution points (CRL_FETCH=on) and CRL_URLS.
const HOUR = 3600_000;

describe('CRLs from URLs', () => {
  let ca: SmimeCa;
  let server: LoopbackServer;
  const engine = createCmsEngine();
  const der = async (o: Parameters<SmimeCa['crl']>[0]) => Buffer.from((await ca.crl(o)).rawData);
  const network = (o: { crlFetch?: 'on' | 'off'; crlUrls?: string; timeoutMs?: number } = {}) =>
    createRevocationNetwork({ crlFetch: o.crlFetch ?? 'on', ocsp: 'off', timeoutMs: o.timeoutMs ?? 3000, engine, ...(o.crlUrls && { crlUrls: o.crlUrls }) });
  const validate = (user: Issued, o: Partial<ValidationOptions>) =>
    validateCertificate(user.cert, { purpose: 'encrypt', address: 'anna@example.org', at: new Date(), anchors: [ca.root.cert], chain: [ca.intermediate.cert], ...o });
  const issue = (name: string, crlUrl?: string) => ca.issueUser(name, { emails: ['anna@example.org'], ...(crlUrl && { crlUrls: [crlUrl] }) });

  beforeAll(async () => {
    ca = await createSmimeCa('CRL Fetch Test');
    server = await startLoopbackServer();
  });
  afterAll(async () => server?.close());

  it("fetches the certificate's distribution point, refuses what it lists, and reuses it until nextUpdate", async () => {
    const revoked = await issue('Revoked', `${server.url}/dp1.crl`);
    const fine = await issue('Fine', `${server.url}/dp1.crl`);
    server.set('/dp1.crl', await der({ revoked: [{ serial: revoked.cert.serialNumber }], nextUpdate: new Date(Date.now() + HOUR) }));
    const revocation = network();
    expect(await validate(revoked, { revocation })).toEqual({
      ok: false,
      check: 'revocation',
      reason: expect.stringMatching(/^the certificate "CN=Revoked", serial [0-9a-f]+ was revoked on .* \(keyCompromise\)$/),
    });
    expect(await validate(fine, { revocation })).toMatchObject({ ok: true });
    expect(server.hits('/dp1.crl')).toBe(1);

    // Past nextUpdate at the time of use: fetched again, and the newer CRL decides.
    server.set('/dp1.crl', await der({ nextUpdate: new Date(Date.now() + 5 * HOUR) }));
    expect(await validate(revoked, { revocation, at: new Date(Date.now() + 2 * HOUR) })).toMatchObject({ ok: true });
    expect(server.hits('/dp1.crl')).toBe(2);
  });

  it('does not fetch with CRL_FETCH=off', async () => {
    const user = await issue('Off', `${server.url}/off.crl`);
    server.set('/off.crl', await der({ revoked: [{ serial: user.cert.serialNumber }] }));
    expect(await validate(user, { revocation: network({ crlFetch: 'off' }) })).toMatchObject({ ok: true });
    expect(server.hits('/off.crl')).toBe(0);
  });

  it('fetches CRL_URLS for certificates without distribution points', async () => {
    const user = await issue('Listed');
    server.set('/configured.crl', Buffer.from((await ca.crl({ revoked: [{ serial: user.cert.serialNumber }] })).toString('pem')));
    expect(await validate(user, { revocation: network({ crlFetch: 'off', crlUrls: `${server.url}/configured.crl` }) })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/was revoked on/),
    });
  });

  it('refuses softly, naming the URL, when the distribution point cannot be fetched, unless another current CRL answers', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/gone.crl`;
    const user = await issue('Unreachable', closed);
    expect(await validate(user, { revocation: network() })).toEqual({
      ok: false,
      check: 'revocation',
      soft: true,
      reason: expect.stringMatching(/^revocation status of "CN=Unreachable", serial [0-9a-f]+ unknown: the CRL at http:\/\/127\.0\.0\.1:\d+\/gone\.crl: ECONNREFUSED$/),
    });
    expect(await validate(user, { revocation: network(), crls: [await ca.crl({})] })).toMatchObject({ ok: true });

    for (const [path, answer, why] of [
      ['/missing.crl', 404, /answered HTTP 404/],
      ['/redirect.crl', 302, /answered HTTP 302/],
      ['/garbage.crl', Buffer.from('<html>not a CRL</html>'), /is not a CRL/],
    ] as const) {
      server.set(path, answer);
      const other = await issue('Broken', `${server.url}${path}`);
      expect(await validate(other, { revocation: network() })).toMatchObject({ ok: false, soft: true, reason: expect.stringMatching(why) });
    }
  });

  it('refuses softly a fetched CRL that another CA signed', async () => {
    const stranger = await createSmimeCa('CRL Stranger');
    const user = await issue('Forged', `${server.url}/forged.crl`);
    // Signed by the stranger's key, but naming the test intermediate as its issuer.
    const crl = await x509.X509CrlGenerator.create({
      issuer: ca.intermediate.cert.subject,
      thisUpdate: new Date(Date.now() - HOUR),
      nextUpdate: new Date(Date.now() + HOUR),
      entries: [],
      signingKey: stranger.intermediate.keys.privateKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    server.set('/forged.crl', Buffer.from(crl.rawData));
    expect(await validate(user, { revocation: network() })).toMatchObject({ ok: false, soft: true, reason: expect.stringMatching(/is not signed by that CA's key/) });
  });

  it('bounds the time and the size of a fetch, and shares one fetch between concurrent callers', async () => {
    server.set('/hang.crl', 'hang');
    server.set('/big.crl', Buffer.alloc(4096, 1));
    server.set('/shared.crl', await der({}));
    const fetcher = createCrlFetcher({ timeoutMs: 300, maxBytes: 1024 });
    const at = new Date();
    expect((await fetcher.crlsFrom([`${server.url}/hang.crl`], at)).failures).toEqual([expect.stringMatching(/hang\.crl: no complete answer within 300 ms$/)]);
    expect((await fetcher.crlsFrom([`${server.url}/big.crl`], at)).failures).toEqual([expect.stringMatching(/big\.crl: the answer is 4096 bytes, more than the 1024 allowed$/)]);
    const shared = createCrlFetcher({ timeoutMs: 3000, maxBytes: 1 << 20 });
    const results = await Promise.all(Array.from({ length: 5 }, () => shared.crlsFrom([`${server.url}/shared.crl`], at)));
    expect(results.every((r) => r.crls.length === 1 && r.failures.length === 0)).toBe(true);
    expect(server.hits('/shared.crl')).toBe(1);
  });
});

describe('CRL distribution points through the application (CRL_FETCH=on)', () => {
  let t: TestApp;
  let ca: SmimeCa;
  let server: LoopbackServer;

  beforeAll(async () => {
    ca = await createSmimeCa('CRL App');
    server = await startLoopbackServer();
    t = await createTestApp({ env: { CRL_FETCH: 'on', REVOCATION_TIMEOUT_MS: '2000' } });
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
  });

  it('refuses a recipient certificate its distribution point revokes', async () => {
    const admin = await t.tenant({ role: 'admin' });
    const call = (url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: { authorization: admin.auth }, payload });
    expect((await call('/v1/trust-anchors', { certificate: ca.root.certPem })).statusCode).toBe(201);
    const anna = await ca.issueUser('Anna', { emails: ['anna@customer.example'], crlUrls: [`${server.url}/ca.crl`] });
    server.set('/ca.crl', Buffer.from((await ca.crl({ revoked: [{ serial: anna.cert.serialNumber }] })).rawData));
    const res = await call('/v1/certificates', { certificate: anna.certPem, chain: ca.intermediate.certPem });
    expect([res.statusCode, res.json()]).toMatchObject([422, { code: 'certificate_rejected', details: { check: 'revocation', reason: expect.stringMatching(/was revoked on/) } }]);
    expect(server.hits('/ca.crl')).toBe(1);
  });
});
