import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSigningIdentity, identitiesNearExpiry, identityKeyContext } from '../../src/core/identities.ts';
import { findEncryptionCertificate } from '../../src/core/certificates.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createSmimeCa, opensslPkcs12, type SmimeCa } from '../support/smime-certs.ts';

const DAY = 24 * 3600_000;

describe('REST /v1/identities, /v1/certificates, /v1/trust-anchors', () => {
  let t: TestApp;
  let ca: SmimeCa;
  let admin: { tenantId: string; auth: string };
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, auth = admin.auth) =>
    t.app.inject({ method, url, headers: { authorization: auth }, ...(payload && { payload }) });

  beforeAll(async () => {
    t = await createTestApp();
    ca = await createSmimeCa();
    admin = await t.tenant({ role: 'admin' });
    const anchor = await call('POST', '/v1/trust-anchors', { certificate: ca.root.certPem });
    expect(anchor.statusCode).toBe(201);
    expect(anchor.json()).toMatchObject({ global: false, subject: ca.root.cert.subject, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
  afterAll(async () => t?.close());

  it('imports modern and legacy PKCS#12 identities (RSA and P-256) and stores the key sealed', async () => {
    for (const [kind, legacy] of [['rsa', false], ['rsa', true], ['ec', false], ['ec', true]] as const) {
      const user = await ca.issueUser(`Payroll ${kind} ${legacy}`, { kind, emails: [`payroll-${kind}-${legacy}@acme.example`] });
      const p12 = await opensslPkcs12(user, [ca.intermediate, ca.root], 'pässword', { legacy });
      const res = await call('POST', '/v1/identities', { pkcs12: p12.toString('base64'), password: 'pässword' });
      expect(res.statusCode, res.body).toBe(201);
      const identity = res.json();
      expect(identity).toMatchObject({
        scope: `payroll-${kind}-${legacy}@acme.example`,
        status: 'active',
        keyAlgorithm: kind === 'rsa' ? 'rsa-2048' : 'ec-prime256v1',
        serial: user.cert.serialNumber.toLowerCase(),
        issuer: ca.intermediate.cert.subject,
        validation: { ok: true },
        retiredAt: null,
      });
      expect(JSON.stringify(identity)).not.toMatch(/privateKey|PRIVATE KEY/);

      const { rows } = await t.runtime.database.pool.query('SELECT private_key FROM signing_identities WHERE id = $1', [identity.id]);
      const stored: Buffer = rows[0].private_key;
      expect(stored.includes(user.keyDer)).toBe(false);
      expect(stored.includes(user.keyDer.subarray(-32))).toBe(false);
      expect(t.runtime.cipher.open(stored, identityKeyContext(identity.id)).equals(user.keyDer)).toBe(true);
    }
  });

  it('imports PEM certificate + key, and refuses a key that does not belong to it', async () => {
    const anna = await ca.issueUser('Anna', { emails: ['anna@acme.example'] });
    const bob = await ca.issueUser('Bob', { emails: ['bob@acme.example'] });
    const mismatch = await call('POST', '/v1/identities', { certificate: anna.certPem, privateKey: bob.keyPem, chain: ca.intermediate.certPem });
    expect([mismatch.statusCode, mismatch.json().code]).toEqual([422, 'key_mismatch']);
    const ok = await call('POST', '/v1/identities', { certificate: anna.certPem + ca.intermediate.certPem, privateKey: anna.keyPem });
    expect(ok.statusCode, ok.body).toBe(201);
    const again = await call('POST', '/v1/identities', { certificate: anna.certPem + ca.intermediate.certPem, privateKey: anna.keyPem });
    expect([again.statusCode, again.json().code]).toEqual([409, 'certificate_exists']);
  });

  it('answers a wrong password, a broken file and a refused certificate with clear 4xx', async () => {
    const user = await ca.issueUser('Anna', { emails: ['anna2@acme.example'] });
    const p12 = await opensslPkcs12(user, [ca.intermediate], 'right', { legacy: true });
    const wrong = await call('POST', '/v1/identities', { pkcs12: p12.toString('base64'), password: 'wrong' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({ code: 'wrong_password', message: expect.stringMatching(/password is wrong/) });
    const broken = await call('POST', '/v1/identities', { pkcs12: Buffer.from('nope').toString('base64'), password: 'x' });
    expect(broken.json().code).toBe('invalid_pkcs12');
    const noPassword = await call('POST', '/v1/identities', { pkcs12: p12.toString('base64') });
    expect([noPassword.statusCode, noPassword.json().code]).toEqual([422, 'missing_field']);

    const tlsOnly = await ca.issueUser('Tls', { emails: ['tls@acme.example'], eku: ['1.3.6.1.5.5.7.3.2'] });
    const refused = await call('POST', '/v1/identities', { certificate: tlsOnly.certPem, privateKey: tlsOnly.keyPem, chain: ca.intermediate.certPem });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'certificate_rejected', details: { check: 'extended_key_usage', reason: expect.stringMatching(/emailProtection/) } });
    const notACert = await call('POST', '/v1/certificates', { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
    expect([notACert.statusCode, notACert.json().code]).toEqual([422, 'invalid_certificate']);
  });

  it('lists, gets and retires identities; retired and expired ones are never chosen for signing', async () => {
    const older = await ca.issueUser('Domain old', { domains: ['shop.example'], notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() + 3 * DAY) });
    const newer = await ca.issueUser('Domain new', { domains: ['shop.example'], notBefore: new Date(Date.now() - DAY) });
    const exact = await ca.issueUser('Sales', { kind: 'ec', emails: ['sales@shop.example'] });
    const ids: Record<string, string> = {};
    for (const [name, u] of Object.entries({ older, newer, exact })) {
      const res = await call('POST', '/v1/identities', { certificate: u.certPem, privateKey: u.keyPem, chain: ca.intermediate.certPem });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().id;
    }
    const choose = (address: string, now?: Date) => chooseSigningIdentity(t.runtime.core, admin.tenantId, address, now ? { now } : {});
    expect((await choose('Sales@Shop.example'))?.id).toBe(ids.exact);
    const byDomain = await choose('billing@shop.example');
    expect(byDomain?.id).toBe(ids.newer);
    expect(byDomain?.privateKey.equals(newer.keyDer)).toBe(true);
    expect(await choose('billing@elsewhere.example')).toBeUndefined();

    expect((await identitiesNearExpiry(t.runtime.database.db, { tenantId: admin.tenantId })).map((w) => w.id)).toEqual([ids.older]);

    const retired = await call('DELETE', `/v1/identities/${ids.newer}`);
    expect(retired.json()).toMatchObject({ status: 'retired', retiredAt: expect.any(String) });
    expect((await choose('billing@shop.example'))?.id).toBe(ids.older);
    // Five days on, the older one has expired: nothing is chosen, but it stays stored.
    expect(await choose('billing@shop.example', new Date(Date.now() + 5 * DAY))).toBeUndefined();
    const list = (await call('GET', '/v1/identities')).json().items as Array<{ id: string; status: string }>;
    expect(list.find((i) => i.id === ids.newer)?.status).toBe('retired');
    expect((await call('GET', `/v1/identities/${ids.older}`)).json()).toMatchObject({ id: ids.older, status: 'active', validation: { ok: true } });
  });

  it('imports recipient certificates (address and domain), filters by address, finds the one to encrypt to, deletes', async () => {
    const anna = await ca.issueUser('Anna', { kind: 'ec', emails: ['anna@customer.example'] });
    const gateway = await ca.issueUser('Customer gateway', { domains: ['customer.example'] });
    const a = await call('POST', '/v1/certificates', { certificate: anna.certPem + ca.intermediate.certPem });
    expect(a.statusCode, a.body).toBe(201);
    expect(a.json()).toMatchObject({ scope: 'anna@customer.example', source: 'import', validation: { ok: true } });
    const g = await call('POST', '/v1/certificates', { certificate: Buffer.from(gateway.cert.rawData).toString('base64'), chain: ca.intermediate.certPem, scope: 'Customer.Example' });
    expect(g.json()).toMatchObject({ scope: 'customer.example' });

    const wrongAddress = await call('POST', '/v1/certificates', { certificate: anna.certPem, chain: ca.intermediate.certPem, scope: 'bob@customer.example' });
    expect(wrongAddress.json()).toMatchObject({ code: 'certificate_rejected', details: { check: 'address', reason: 'the certificate is for anna@customer.example, not bob@customer.example' } });
    const revokedUser = await ca.issueUser('Revoked', { emails: ['gone@customer.example'] });
    const crl = await ca.crl({ revoked: [{ serial: revokedUser.cert.serialNumber }] });
    const { importRecipientCertificate } = await import('../../src/core/certificates.ts');
    const principal = { tenantId: admin.tenantId, keyId: 'test', role: 'admin' as const, senderDomains: [] };
    await expect(importRecipientCertificate(t.runtime.core, principal, { certificate: revokedUser.certPem, chain: ca.intermediate.certPem }, { crls: [crl] })).rejects.toMatchObject({
      code: 'certificate_rejected',
      details: { check: 'revocation', reason: expect.stringMatching(/was revoked on/) },
    });

    const forAnna = (await call('GET', '/v1/certificates?address=ANNA@customer.example')).json().items.map((c: { scope: string }) => c.scope);
    expect(forAnna.sort()).toEqual(['anna@customer.example', 'customer.example']);
    const core = t.runtime.core;
    expect((await findEncryptionCertificate(core, admin.tenantId, 'anna@customer.example'))?.id).toBe(a.json().id);
    expect((await findEncryptionCertificate(core, admin.tenantId, 'carl@customer.example'))?.id).toBe(g.json().id);
    expect(await findEncryptionCertificate(core, admin.tenantId, 'carl@other.example')).toBeUndefined();

    expect((await call('GET', `/v1/certificates/${a.json().id}`)).json().id).toBe(a.json().id);
    expect((await call('DELETE', `/v1/certificates/${a.json().id}`)).statusCode).toBe(204);
    expect((await call('GET', `/v1/certificates/${a.json().id}`)).statusCode).toBe(404);
  });

  it('is for admins of the tenant only: submitter and auditor 403, another tenant 404', async () => {
    const user = await ca.issueUser('Iso', { emails: ['iso@acme.example'] });
    const created = (await call('POST', '/v1/identities', { certificate: user.certPem, privateKey: user.keyPem, chain: ca.intermediate.certPem })).json();
    const cert = (await call('POST', '/v1/certificates', { certificate: user.certPem, chain: ca.intermediate.certPem })).json();
    for (const role of ['submitter', 'auditor'] as const) {
      const auth = await t.key(admin.tenantId, role);
      for (const [method, url] of [['GET', '/v1/identities'], ['GET', `/v1/identities/${created.id}`], ['DELETE', `/v1/identities/${created.id}`], ['GET', '/v1/certificates'], ['GET', '/v1/trust-anchors']] as const) {
        const res = await call(method, url, undefined, auth);
        expect([method, url, res.statusCode, res.json().code]).toEqual([method, url, 403, 'forbidden']);
      }
      expect((await call('POST', '/v1/identities', { certificate: user.certPem, privateKey: user.keyPem }, auth)).statusCode).toBe(403);
    }
    const other = await t.tenant({ role: 'admin' });
    expect((await call('GET', `/v1/identities/${created.id}`, undefined, other.auth)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/identities/${created.id}`, undefined, other.auth)).statusCode).toBe(404);
    expect((await call('GET', `/v1/certificates/${cert.id}`, undefined, other.auth)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/certificates/${cert.id}`, undefined, other.auth)).statusCode).toBe(404);
    expect((await call('GET', '/v1/identities', undefined, other.auth)).json().items).toEqual([]);
    // The other tenant does not trust this tenant's anchor: the same certificate is refused there.
    const refused = await call('POST', '/v1/certificates', { certificate: user.certPem, chain: ca.intermediate.certPem }, other.auth);
    expect(refused.json()).toMatchObject({ code: 'certificate_rejected', details: { check: 'chain', reason: expect.stringMatching(/no trust anchor is configured/) } });
    const anchors = (await call('GET', '/v1/trust-anchors')).json().items;
    expect((await call('DELETE', `/v1/trust-anchors/${anchors[0].id}`, undefined, other.auth)).statusCode).toBe(404);
  });
});
