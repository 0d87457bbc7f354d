import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are `<keyId>.<secret>`: the id is public (it names the key in logs and
 * is the WS-Security username), the secret is 256 random bits shown once and
 * stored only as its SHA-256. A slow password hash buys nothing for a secret of
 * that entropy and would cost a hash per request.
 */
export interface IssuedKey {
  keyId: string;
  secret: string;
  token: string;
  secretHash: Buffer;
}

const KEY_ID_PATTERN = /^sp_[a-z0-9]{16}$/;

export function issueApiKey(): IssuedKey {
  const keyId = 'sp_' + randomBytes(10).toString('hex').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, token: `${keyId}.${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}

/** Splits a presented token; undefined when it cannot be one of ours. */
export function parseApiToken(token: string): { keyId: string; secret: string } | undefined {
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const keyId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!KEY_ID_PATTERN.test(keyId) || secret.length < 16 || secret.length > 256) return undefined;
  return { keyId, secret };
}
