import { createHash, randomBytes } from 'node:crypto';
import type { DbOrTx } from '../db/client.ts';
import { findPortalToken, insertPortalToken } from '../db/repositories/portal-tokens.ts';
import type { PortalTokenRow } from '../db/schema.ts';

/** 32 random bytes (256 bits), base64url: 43 characters, safe in a URL path. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const hashPortalToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * Creates the access token of one recipient's portal copy and stores its hash.
 * Committed on its own before the notification leaves, so the link works as
 * soon as it arrives; the token itself is returned once and never stored.
 */
export async function issuePortalToken(
  db: DbOrTx,
  subject: { tenantId: string; messageId: string; recipientId: string },
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await insertPortalToken(db, { tokenHash: hashPortalToken(token), ...subject, expiresAt });
  return { token, expiresAt };
}

export type TokenLookup = { kind: 'valid'; row: PortalTokenRow } | { kind: 'expired'; row: PortalTokenRow } | { kind: 'unknown' };

/** A token from a URL: unknown (malformed or never issued), expired, or valid with what it opens. */
export async function lookUpPortalToken(db: DbOrTx, token: string, now: Date = new Date()): Promise<TokenLookup> {
  if (!TOKEN_SHAPE.test(token)) return { kind: 'unknown' };
  const row = await findPortalToken(db, hashPortalToken(token));
  if (!row) return { kind: 'unknown' };
  if (row.expiresAt.getTime() <= now.getTime()) return { kind: 'expired', row };
  return { kind: 'valid', row };
}
