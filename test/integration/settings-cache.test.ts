import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { createSmimeCa, type Issued, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

/**
 * The worker caches certificates, identities, trust anchors and policies
 * (src/core/settings-cache.ts). A change committed before a message is
 * submitted must apply to that message, however recently the worker read the
 * old settings: each claim carries the settings version.
 */
describe('the worker settings cache', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ca: SmimeCa;
  let carla: Issued;
  let admin: { tenantId: string; auth: string };
  let submit: string;
  let sent = 0;

  const call = async (method: 'POST' | 'DELETE', url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: { authorization: admin.auth }, ...(payload && { payload }) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.statusCode === 204 ? undefined : res.json();
  };
  /** Submits to Carla and returns the Content-Type line of the copy the peer received. */
  const sendToCarla = async (subject: string): Promise<string> => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: submit },
      payload: submission({ to: ['carla@example.org'], subject, text: 'Vertraulich.' }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const mail = (await peer.waitFor(++sent)).at(-1)!;
    return /^Content-Type: [^\r\n]*/im.exec(mail.raw.toString('latin1'))![0];
  };
  const version = async () => Number((await t.runtime.database.pool.query('SELECT version FROM settings_version')).rows[0].version);

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    ca = await createSmimeCa();
    const sender = await ca.issueUser('Payroll', { emails: ['payroll@example.com'] });
    carla = await ca.issueUser('Carla', { emails: ['carla@example.org'] });
    admin = await t.tenant({ role: 'admin', senderDomains: ['example.com'] });
    submit = await t.key(admin.tenantId, 'submitter');
    await call('POST', '/v1/trust-anchors', { certificate: ca.root.certPem });
    await call('POST', '/v1/identities', { certificate: sender.certPem, privateKey: sender.keyPem, chain: ca.intermediate.certPem });
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('encrypts to a certificate imported right after a copy went without one, and stops when it is deleted', async () => {
    // No certificate yet: a signed portal notification, and the worker now holds "Carla has none".
    expect(await sendToCarla('first')).toMatch(/multipart\/signed/);
    const before = await version();
    const imported = await call('POST', '/v1/certificates', { certificate: carla.certPem, chain: ca.intermediate.certPem });
    expect(await version()).toBeGreaterThan(before);
    expect(await sendToCarla('second')).toMatch(/application\/pkcs7-mime; smime-type=enveloped-data/);
    await call('DELETE', `/v1/certificates/${imported.id}`);
    expect(await sendToCarla('third')).toMatch(/multipart\/signed/);
  });

  it('raises the version for writes the API did not make', async () => {
    const before = await version();
    await t.runtime.database.pool.query(`UPDATE transport_policies SET business = business WHERE false`);
    expect(await version()).toBe(before + 1);
  });
});
