import { describe, expect, it } from 'vitest';
import { hashSecret, issueApiKey, parseApiToken, secretMatches } from '../../src/security/api-key.ts';

describe('API keys', () => {
  it('issues <key id>.<secret> and stores only a hash of the secret', () => {
    const key = issueApiKey();
    expect(key.keyId).toMatch(/^sp_[a-z0-9]{16}$/);
    expect(key.token).toBe(`${key.keyId}.${key.secret}`);
    expect(Buffer.from(key.secret, 'base64url')).toHaveLength(32);
    expect(key.secretHash.equals(hashSecret(key.secret))).toBe(true);
    expect(key.secretHash.toString('utf8')).not.toContain(key.secret);
  });

  it('issues a different key every time', () => {
    const [a, b] = [issueApiKey(), issueApiKey()];
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.secret).not.toBe(b.secret);
  });

  it('parses what it issues', () => {
    const key = issueApiKey();
    expect(parseApiToken(key.token)).toEqual({ keyId: key.keyId, secret: key.secret });
  });

  it('matches the right secret only', () => {
    const key = issueApiKey();
    expect(secretMatches(key.secret, key.secretHash)).toBe(true);
    expect(secretMatches(issueApiKey().secret, key.secretHash)).toBe(false);
    expect(secretMatches(key.secret.slice(1), key.secretHash)).toBe(false);
    expect(secretMatches(key.secret, Buffer.alloc(8))).toBe(false);
  });

  const secret = 'x'.repeat(43);
  it.each([
    ['an empty token', ''],
    ['no dot', `sp_0123456789abcdef${secret}`],
    ['no key id', `.${secret}`],
    ['a key id without the prefix', `0123456789abcdef.${secret}`],
    ['an upper-case key id', `sp_0123456789ABCDEF.${secret}`],
    ['a short key id', `sp_0123.${secret}`],
    ['a secret under 16 characters', 'sp_0123456789abcdef.short'],
    ['a secret over 256 characters', `sp_0123456789abcdef.${'x'.repeat(257)}`],
  ])('refuses %s', (_case, token) => {
    expect(parseApiToken(token)).toBeUndefined();
  });
});
