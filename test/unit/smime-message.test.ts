import { createPrivateKey, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage, signMessage, SmimeError, verifyMessage } from '../../src/smime/index.ts';
import { base64Lines } from '../../src/smime/base64.ts';
import { toPrivateKey } from '../../src/smime/keys.ts';
import { to7bitEntity, toCrlf } from '../../src/smime/canonical.ts';
import { splitMessage } from '../../src/smime/header-split.ts';
import { createSmimeTestCa, type SmimeTestCa, type SmimeUser } from '../support/smime-ca.ts';

let ca: SmimeTestCa;
let rsa: SmimeUser;
let ec: SmimeUser;
const message = Buffer.from(
  'From: a@example.com\r\nTo: b@example.org\r\nSubject: Payslip\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nNet pay: 1234.56\r\n',
);

beforeAll(async () => {
  ca = await createSmimeTestCa();
  rsa = await ca.issueSmime('Rsa', 'rsa@example.org');
  ec = await ca.issueSmime('Ec', 'ec@example.org', { algorithm: 'ec-p256' });
});

describe('header split', () => {
  it('keeps the RFC 5322 fields outside and the Content-* fields with the body', () => {
    const { outer, entity } = splitMessage(message);
    expect(outer).toBe('From: a@example.com\r\nTo: b@example.org\r\nSubject: Payslip\r\n');
    expect(Buffer.concat(entity).toString()).toBe('Content-Type: text/plain; charset=us-ascii\r\n\r\nNet pay: 1234.56\r\n');
  });

  it('keeps folded fields whole', () => {
    const { outer, entity } = splitMessage(Buffer.from('Subject: a\r\n b\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\nx'));
    expect(outer).toBe('Subject: a\r\n b\r\n');
    expect(Buffer.concat(entity).toString()).toBe('Content-Type: text/plain;\r\n charset=utf-8\r\n\r\nx');
  });
});

describe('canonical form', () => {
  it('leaves canonical input alone, without a copy', () => {
    expect(toCrlf(message)).toBe(message);
  });

  it('turns bare LF into CRLF', () => {
    expect(toCrlf(Buffer.from('a\nb\r\nc\n')).toString()).toBe('a\r\nb\r\nc\r\n');
  });

  it('re-encodes 8bit leaf parts as base64 and keeps 7bit parts byte for byte', () => {
    const entity = Buffer.from(
      'Content-Type: multipart/mixed; boundary="x"\r\n\r\npre\r\n--x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n--x\r\nContent-Type: text/plain\r\n\r\nplain\r\n--x--\r\n',
    );
    const out = to7bitEntity(entity).toString('latin1');
    expect(out).toContain('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' + Buffer.from('Grüße').toString('base64') + '\r\n');
    expect(out).toContain('\r\n--x\r\nContent-Type: text/plain\r\n\r\nplain\r\n--x--\r\n');
    expect(out.startsWith('Content-Type: multipart/mixed; boundary="x"\r\n\r\npre\r\n--x\r\n')).toBe(true);
  });
});

describe('base64 lines', () => {
  it('encodes chunk lists of any alignment exactly as one buffer, in 76-character CRLF lines', () => {
    for (let trial = 0; trial < 200; trial++) {
      const chunks = Array.from({ length: 1 + (trial % 5) }, (_, i) => randomBytes((trial * 7 + i * 13) % 190));
      const whole = Buffer.concat(chunks);
      const lines = whole.toString('base64').match(/.{1,76}/g) ?? [];
      expect(base64Lines(chunks).toString('latin1')).toBe(lines.map((l) => l + '\r\n').join(''));
    }
  });
});

describe('verifyMessage', () => {
  it('detects a flipped byte anywhere in the signed entity and anywhere in the signature', async () => {
    const signed = await signMessage(message, { certificate: rsa.certPem, privateKey: rsa.privateKey });
    const text = signed.toString('latin1');
    const contentStart = text.indexOf('Content-Type: text/plain');
    const contentEnd = text.indexOf('\r\n------=_sealpost', contentStart);
    const sigStart = text.indexOf('filename="smime.p7s"\r\n\r\n') + 24;
    const sigEnd = text.indexOf('\r\n------=_sealpost', sigStart);
    const der = Buffer.from(text.slice(sigStart, sigEnd), 'base64');
    const options = { trustedCertificates: [ca.certPem] };
    expect((await verifyMessage(signed, options)).valid).toBe(true);

    for (let at = contentStart; at < contentEnd; at++) {
      const copy = Buffer.from(signed);
      copy[at] = copy[at]! ^ 0x01;
      expect((await verifyMessage(copy, options)).valid, `content byte ${at}`).toBe(false);
    }
    for (let at = 0; at < der.length; at++) {
      const flipped = Buffer.from(der);
      flipped[at] = flipped[at]! ^ 0x01;
      const copy = Buffer.from(text.slice(0, sigStart) + flipped.toString('base64') + text.slice(sigEnd), 'latin1');
      expect((await verifyMessage(copy, options)).valid, `signature byte ${at} of ${der.length}`).toBe(false);
    }
  }, 120_000);

  it('detects a flipped byte anywhere in an opaque EC-signed message', async () => {
    const signed = await signMessage(message, { certificate: ec.certPem, privateKey: ec.privateKey }, { detached: false });
    const text = signed.toString('latin1');
    const start = text.indexOf('\r\n\r\n') + 4;
    const der = Buffer.from(text.slice(start), 'base64');
    const options = { trustedCertificates: [ca.certPem] };
    expect((await verifyMessage(signed, options)).valid).toBe(true);
    for (let at = 0; at < der.length; at++) {
      const flipped = Buffer.from(der);
      flipped[at] = flipped[at]! ^ 0x01;
      const copy = Buffer.from(text.slice(0, start) + flipped.toString('base64'), 'latin1');
      expect((await verifyMessage(copy, options)).valid, `byte ${at} of ${der.length}`).toBe(false);
    }
  }, 120_000);

  it('refuses a signer that does not chain to the trusted certificates', async () => {
    const other = await createSmimeTestCa('Someone Else');
    const signed = await signMessage(message, { certificate: ec.certPem, privateKey: ec.keyPem });
    const result = await verifyMessage(signed, { trustedCertificates: [other.certPem] });
    expect(result.valid).toBe(false);
    expect(result.reason).toMatch(/certificate chain/);
  });
});

describe('inputs and refusals', () => {
  it('accepts private keys as KeyObject, PEM and PKCS#8 DER and certificates as PEM and DER', async () => {
    const der = rsa.privateKey.export({ type: 'pkcs8', format: 'der' });
    for (const privateKey of [rsa.privateKey, rsa.keyPem, Buffer.from(rsa.keyPem), der, createPrivateKey(rsa.keyPem)]) {
      for (const certificate of [rsa.certPem, rsa.certDer]) {
        expect((await verifyMessage(await signMessage(message, { certificate, privateKey }))).valid).toBe(true);
      }
    }
  });

  it('refuses a private key that does not belong to the certificate', async () => {
    await expect(signMessage(message, { certificate: rsa.certPem, privateKey: ec.keyPem })).rejects.toMatchObject({ code: 'smime_unsupported_key' });
    const other = await ca.issueSmime('Other', 'other@example.org');
    await expect(signMessage(message, { certificate: rsa.certPem, privateKey: other.keyPem })).rejects.toThrow(/does not belong/);
  });

  it('refuses to encrypt to nobody, and to decrypt for a certificate that is not a recipient', async () => {
    await expect(encryptMessage(message, [])).rejects.toMatchObject({ code: 'smime_no_recipient' });
    const encrypted = await encryptMessage(message, [{ certificate: rsa.certPem }]);
    const error = await decryptMessage(encrypted, { certificate: ec.certPem, privateKey: ec.keyPem }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmimeError);
    expect(error).toMatchObject({ code: 'smime_not_for_recipient' });
  });

  it('round-trips through our own decrypt for RSA (both key transports) and EC recipients', async () => {
    const encrypted = await encryptMessage(message, [{ certificate: rsa.certPem, keyTransport: 'rsaes-oaep-sha256' }, { certificate: ec.certDer }]);
    for (const reader of [rsa, ec]) {
      expect((await decryptMessage(encrypted, { certificate: reader.certPem, privateKey: reader.privateKey })).toString()).toBe(
        'From: a@example.com\r\nTo: b@example.org\r\nSubject: Payslip\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nNet pay: 1234.56\r\n',
      );
    }
  });
});

describe('private keys', () => {
  it('parses the same key bytes once, and still refuses bytes that are no key', () => {
    const der = createPrivateKey(rsa.keyPem).export({ type: 'pkcs8', format: 'der' });
    const first = toPrivateKey(der);
    expect(toPrivateKey(Buffer.from(der))).toBe(first);
    expect(toPrivateKey(rsa.keyPem)).not.toBe(first); // PEM text is other bytes: its own entry, the same key
    expect(toPrivateKey(rsa.keyPem).equals(first)).toBe(true);
    expect(() => toPrivateKey(randomBytes(64))).toThrow(SmimeError);
  });
});
