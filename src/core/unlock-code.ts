import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.ts';

/**
 * The optional unlock code a sender gives a personal or registered message and
 * tells the recipient out of band (a second factor next to the portal password).
 * Kept as a salted SHA-256 inside the sealed content: whoever could open the
 * sealed content could read the message itself, so a slow hash would add nothing;
 * wrong guesses in the portal count towards the account lockout.
 */
export interface UnlockCodeHash {
  salt: string;
  sha256: string;
}

const SHAPE = /^[\x21-\x7e]{4,64}$/;

/** Checks a submitted unlock code: 4 to 64 printable ASCII characters, no spaces. */
export function validateUnlockCode(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !SHAPE.test(value)) {
    throw new AppError('invalid_field', 'unlockCode must be 4 to 64 printable ASCII characters without spaces', { field: 'unlockCode' });
  }
  return value;
}

export function hashUnlockCode(code: string): UnlockCodeHash {
  const salt = randomBytes(16);
  return { salt: salt.toString('base64'), sha256: digest(salt, code).toString('base64') };
}

export function unlockCodeMatches(stored: UnlockCodeHash, given: string): boolean {
  const expected = Buffer.from(stored.sha256, 'base64');
  const actual = digest(Buffer.from(stored.salt, 'base64'), given.trim());
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const digest = (salt: Buffer, code: string) => createHash('sha256').update(salt).update(code, 'utf8').digest();
