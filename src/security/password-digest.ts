import { createHash } from 'node:crypto';

/**
 * WS-Security UsernameToken PasswordDigest (OASIS UsernameToken Profile 1.1):
 * Base64(SHA-1(nonce bytes + created + password)). SHA-1 is what the profile
 * fixes; the freshness window and the nonce store are what stop replays.
 */
export function passwordDigest(nonce: Buffer, created: string, secret: string): Buffer {
  return createHash('sha1').update(nonce).update(created, 'utf8').update(secret, 'utf8').digest();
}
