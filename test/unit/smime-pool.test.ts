import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmimePool, decryptMessage, verifyMessage, type SmimePool } from '../../src/smime/index.ts';
import { createSmimeTestCa, type SmimeTestCa, type SmimeUser } from '../support/smime-ca.ts';

let ca: SmimeTestCa;
let user: SmimeUser;
let pool: SmimePool | undefined;

beforeAll(async () => {
  ca = await createSmimeTestCa();
  user = await ca.issueSmime('Pool', 'pool@example.org', { algorithm: 'ec-p256' });
});
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const message = (n: number) => Buffer.from(`From: a@example.com\r\nSubject: ${n}\r\nContent-Type: text/plain\r\n\r\nmessage ${n}\r\n`);

describe('the S/MIME worker pool', () => {
  it('signs and encrypts many messages concurrently, each readable', async () => {
    pool = createSmimePool({ size: 2 });
    expect(pool.size).toBe(2);
    const signer = { certificate: user.certPem, privateKey: user.privateKey };
    const results = await Promise.all(Array.from({ length: 12 }, (_, n) => pool!.signThenEncrypt(message(n), signer, [{ certificate: user.certDer }], { detached: n % 2 === 0 })));
    for (const [n, result] of results.entries()) {
      const opened = await decryptMessage(result, { certificate: user.certPem, privateKey: user.keyPem });
      const verified = await verifyMessage(opened, { trustedCertificates: [ca.certPem] });
      expect(verified.valid).toBe(true);
      expect(verified.content.toString()).toContain(`message ${n}`);
    }
  });

  it('reports the library error code from a thread', async () => {
    pool = createSmimePool({ size: 1 });
    await expect(pool.encryptMessage(message(1), [])).rejects.toMatchObject({ code: 'smime_no_recipient' });
    // the thread survives an error
    expect((await pool.signMessage(message(2), { certificate: user.certDer, privateKey: user.keyPem })).length).toBeGreaterThan(0);
  });

  it('finishes running work on close, then refuses new work', async () => {
    pool = createSmimePool({ size: 1 });
    const running = pool.signMessage(message(3), { certificate: user.certPem, privateKey: user.privateKey });
    await pool.close();
    expect((await running).toString()).toContain('multipart/signed');
    await expect(pool.signMessage(message(4), { certificate: user.certPem, privateKey: user.privateKey })).rejects.toMatchObject({ code: 'smime_pool_closed' });
  });
});
