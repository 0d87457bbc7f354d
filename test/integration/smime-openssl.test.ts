import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage, signMessage, signThenEncrypt, verifyMessage } from '../../src/smime/index.ts';
import { splitMessage } from '../../src/smime/header-split.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeTestCa, type SmimeAlgorithm, type SmimeTestCa, type SmimeUser } from '../support/smime-ca.ts';

// Every output of src/smime checked by the real `openssl cms`, and openssl's own output read back by us.
const message = Buffer.from(
  [
    'From: Payroll <payroll@example.com>',
    'To: Ann Example <ann@example.org>',
    'Subject: Your payslip',
    'Date: Mon, 23 Nov 2026 09:00:00 +0000',
    'Message-ID: <payslip-1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße, hier ist Ihre Abrechnung.',
    '--b1',
    'Content-Type: application/pdf; name="payslip.pdf"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="payslip.pdf"',
    '',
    Buffer.from('%PDF-1.4 pretend payslip\n'.repeat(200)).toString('base64').replace(/(.{76})/g, '$1\n'),
    '--b1--',
    '',
  ].join('\n'), // bare LF and an 8bit part on purpose: the engine must canonicalise both
);

const algorithms: SmimeAlgorithm[] = ['rsa', 'rsa-pss', 'ec-p256'];
let ca: SmimeTestCa;
let files: Awaited<ReturnType<typeof scratch>>;
let caFile: string;
const users = new Map<SmimeAlgorithm, SmimeUser>();
const signerOf = (u: SmimeUser) => ({ certificate: u.certPem, privateKey: u.keyPem, ...(u.algorithm === 'rsa-pss' && { scheme: 'rsassa-pss' as const }) });

async function opensslVerify(signed: Buffer) {
  return run('openssl', ['cms', '-verify', '-CAfile', caFile, '-purpose', 'smimesign'], signed);
}
async function opensslDecrypt(encrypted: Buffer, u: SmimeUser) {
  return run('openssl', ['cms', '-decrypt', '-recip', await files.file(`${u.algorithm}.crt`, u.certPem), '-inkey', await files.file(`${u.algorithm}.key`, u.keyPem)], encrypted);
}
const outerOf = (m: Buffer) => m.toString('latin1').split('\r\n\r\n')[0]!;

beforeAll(async () => {
  ca = await createSmimeTestCa();
  files = await scratch();
  caFile = await files.file('ca.pem', ca.certPem);
  for (const algorithm of algorithms) users.set(algorithm, await ca.issueSmime(`User ${algorithm}`, `${algorithm}@example.org`, { algorithm }));
});
afterAll(() => files?.remove());

describe.each(algorithms)('signing with a %s key', (algorithm) => {
  it.each([true, false])('detached=%s verifies with openssl cms -verify and with verifyMessage', async (detached) => {
    const signed = await signMessage(message, signerOf(users.get(algorithm)!), { detached });
    const head = outerOf(signed);
    expect(head).toContain('Subject: Your payslip');
    expect(head).toContain('Message-ID: <payslip-1@example.com>');
    expect(head).toContain(detached ? 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256' : 'smime-type=signed-data');

    const checked = await opensslVerify(signed);
    expect(checked.stderr).toContain('Verification successful');
    expect(checked.code).toBe(0);
    const text = checked.stdout.toString('latin1');
    expect(text).toContain('Content-Type: multipart/mixed; boundary="b1"\r\n');
    expect(text).not.toMatch(/[^\r]\n/); // canonical CRLF
    expect(text).toContain('Content-Transfer-Encoding: base64'); // the 8bit part was re-encoded
    expect(text).not.toContain('Subject:'); // outer headers stay outside the signed entity

    const ours = await verifyMessage(signed, { trustedCertificates: [ca.certPem] });
    expect(ours).toMatchObject({ valid: true });
    expect(ours.content.equals(checked.stdout)).toBe(true);
    expect(ours.signer?.certificate.equals(users.get(algorithm)!.certDer)).toBe(true);
    expect(Math.abs(ours.signer!.signingTime!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('reads a message signed by openssl cms -sign (detached and opaque)', async () => {
    const u = users.get(algorithm)!;
    const entity = Buffer.concat(splitMessage(Buffer.from('Content-Type: text/plain\r\n\r\nsigned by openssl\r\n')).entity);
    const keyopt = algorithm === 'rsa-pss' ? ['-keyopt', 'rsa_padding_mode:pss'] : [];
    for (const mode of [[], ['-nodetach']]) {
      const signed = await run(
        'openssl',
        ['cms', '-sign', '-md', 'sha256', '-signer', await files.file('s.crt', u.certPem), '-inkey', await files.file('s.key', u.keyPem), ...keyopt, ...mode],
        entity,
      );
      expect(signed.code, signed.stderr).toBe(0);
      const ours = await verifyMessage(signed.stdout, { trustedCertificates: [ca.certPem] });
      expect(ours, ours.reason).toMatchObject({ valid: true });
      expect(ours.content.toString()).toContain('signed by openssl');
    }
  });
});

describe('encryption', () => {
  const cases: Array<[SmimeAlgorithm, 'rsaes-pkcs1-v1_5' | 'rsaes-oaep-sha256' | undefined]> = [
    ['rsa', undefined],
    ['rsa', 'rsaes-pkcs1-v1_5'],
    ['rsa', 'rsaes-oaep-sha256'],
    ['ec-p256', undefined],
  ];
  it.each(cases)('to a %s recipient (%s) decrypts with openssl cms -decrypt, for the recipient and the sender copy', async (algorithm, keyTransport) => {
    const recipient = users.get(algorithm)!;
    const sender = users.get('rsa-pss')!;
    const encrypted = await encryptMessage(message, [{ certificate: recipient.certDer, ...(keyTransport && { keyTransport }) }, { certificate: sender.certPem }]);
    expect(outerOf(encrypted)).toContain('Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"');
    expect(outerOf(encrypted)).toContain('To: Ann Example <ann@example.org>');
    for (const reader of [recipient, sender]) {
      const opened = await opensslDecrypt(encrypted, reader);
      expect(opened.code, opened.stderr).toBe(0);
      expect(opened.stdout.toString('latin1')).toMatch(/^Content-Type: multipart\/mixed; boundary="b1"\r\n/);
      expect(opened.stdout.toString()).toContain('Grüße');
      const ours = await decryptMessage(encrypted, { certificate: reader.certPem, privateKey: reader.privateKey });
      expect(ours.toString('latin1')).toContain('Subject: Your payslip\r\n');
      expect(ours.toString('latin1').endsWith(opened.stdout.toString('latin1'))).toBe(true);
    }
  });

  it.each([
    ['rsa', []],
    ['rsa', ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256']],
    ['ec-p256', []],
  ] as const)('reads a message encrypted by openssl cms -encrypt to a %s recipient %s', async (algorithm, keyopt) => {
    const u = users.get(algorithm)!;
    for (const cipher of ['-aes256', '-aes128']) {
      const encrypted = await run('openssl', ['cms', '-encrypt', cipher, '-recip', await files.file('r.crt', u.certPem), ...keyopt], Buffer.from('Content-Type: text/plain\r\n\r\nfor your eyes only\r\n'));
      expect(encrypted.code, encrypted.stderr).toBe(0);
      const opened = await decryptMessage(encrypted.stdout, { certificate: u.certDer, privateKey: u.keyPem });
      expect(opened.toString()).toContain('for your eyes only');
    }
  });
});

describe('sign-then-encrypt', () => {
  it.each(algorithms)('signed by %s: openssl decrypts, then verifies the signed entity', async (algorithm) => {
    const recipient = users.get('rsa')!;
    const both = await signThenEncrypt(message, signerOf(users.get(algorithm)!), [{ certificate: recipient.certPem, keyTransport: 'rsaes-oaep-sha256' }, { certificate: users.get('ec-p256')!.certPem }]);
    const opened = await opensslDecrypt(both, recipient);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.toString('latin1')).toMatch(/^Content-Type: multipart\/signed;/);
    const checked = await opensslVerify(opened.stdout);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout.toString()).toContain('payslip.pdf');

    const ours = await verifyMessage(await decryptMessage(both, { certificate: users.get('ec-p256')!.certPem, privateKey: users.get('ec-p256')!.keyPem }), { trustedCertificates: [ca.certDer] });
    expect(ours, ours.reason).toMatchObject({ valid: true });
  });
});

describe('tampering', () => {
  const flipAt = (bytes: Buffer, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at] = copy[at]! ^ 0x01;
    return copy;
  };

  it('a flipped byte in the signed content fails openssl cms -verify and verifyMessage', async () => {
    const signed = await signMessage(message, signerOf(users.get('rsa')!));
    const at = signed.indexOf('JVBERi0xLjQg') + 5; // inside the base64 PDF
    expect(at).toBeGreaterThan(0);
    const tampered = flipAt(signed, at);
    const checked = await opensslVerify(tampered);
    expect(checked.code).not.toBe(0);
    expect((await verifyMessage(tampered, { trustedCertificates: [ca.certPem] })).valid).toBe(false);
  });

  it.each([true, false])('a flipped byte in the signature (detached=%s) fails openssl cms -verify and verifyMessage', async (detached) => {
    const signed = await signMessage(message, signerOf(users.get('ec-p256')!), { detached });
    const text = signed.toString('latin1');
    const start = detached ? text.indexOf('filename="smime.p7s"\r\n\r\n') + 24 : text.indexOf('\r\n\r\n') + 4;
    const end = detached ? text.indexOf('\r\n--', start) : text.length;
    const der = Buffer.from(text.slice(start, end), 'base64');
    // the last bytes of the DER are the ECDSA signature value itself
    const tamperedDer = flipAt(der, der.length - 5);
    const b64 = tamperedDer.toString('base64').replace(/(.{76})/g, '$1\r\n');
    const tampered = Buffer.from(text.slice(0, start) + b64 + '\r\n' + text.slice(end), 'latin1');
    const checked = await opensslVerify(tampered);
    expect(checked.code).not.toBe(0);
    expect((await verifyMessage(tampered, { trustedCertificates: [ca.certPem] })).valid).toBe(false);
  });
});
