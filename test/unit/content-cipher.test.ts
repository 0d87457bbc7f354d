import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createContentCipher } from '../../src/security/content-cipher.ts';

const cipher = createContentCipher(randomBytes(32));
const plaintext = Buffer.from('Lohnabrechnung November — vertraulich');

describe('content cipher (AES-256-GCM, context as associated data)', () => {
  it.each([0, 1, 16, 4096, 1024 * 1024])('round-trips %i bytes', (size) => {
    const bytes = randomBytes(size);
    expect(cipher.open(cipher.seal(bytes, 'attachment:a'), 'attachment:a').equals(bytes)).toBe(true);
  });

  it('never writes the plaintext and never seals the same way twice', () => {
    const a = cipher.seal(plaintext, 'message:1');
    const b = cipher.seal(plaintext, 'message:1');
    expect(a.includes(plaintext)).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('fails to open under another context', () => {
    const sealed = cipher.seal(plaintext, 'attachment:one');
    expect(() => cipher.open(sealed, 'attachment:two')).toThrow();
  });

  it('fails to open under another master key', () => {
    const sealed = cipher.seal(plaintext, 'message:1');
    expect(() => createContentCipher(randomBytes(32)).open(sealed, 'message:1')).toThrow();
  });

  it.each([
    ['the nonce', 1],
    ['the ciphertext', 14],
    ['the tag', -1],
  ])('detects tampering with %s', (_part, offset) => {
    const sealed = cipher.seal(plaintext, 'message:1');
    const at = offset < 0 ? sealed.length + offset : offset;
    sealed[at]! ^= 0x01;
    expect(() => cipher.open(sealed, 'message:1')).toThrow();
  });

  it('detects truncation', () => {
    const sealed = cipher.seal(plaintext, 'message:1');
    expect(() => cipher.open(sealed.subarray(0, sealed.length - 1), 'message:1')).toThrow();
    expect(() => cipher.open(sealed.subarray(0, 20), 'message:1')).toThrow(/unknown format/);
  });

  it('refuses an unknown format version', () => {
    const sealed = cipher.seal(plaintext, 'message:1');
    sealed[0] = 2;
    expect(() => cipher.open(sealed, 'message:1')).toThrow(/unknown format/);
  });
});
