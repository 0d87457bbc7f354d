import { createHash, timingSafeEqual } from 'node:crypto';
import type { DbOrTx } from '../db/client.ts';
import { recordNonce } from '../db/repositories/nonces.ts';
import { findActiveApiKey } from '../db/repositories/tenants.ts';
import { parseApiToken, secretMatches } from '../security/api-key.ts';
import { passwordDigest } from '../security/password-digest.ts';
import type { CoreContext } from './context.ts';
import { decodeBase64Strict } from './encoding.ts';
import { AppError } from './errors.ts';
import type { Principal } from './principal.ts';

/** Resolves a key id and secret (REST bearer token, SOAP UsernameToken, HTTP Basic) to a principal. */
export async function authenticate(db: DbOrTx, keyId: string, secret: string): Promise<Principal> {
  const key = await findActiveApiKey(db, keyId);
  if (!key || !secretMatches(secret, key.secretHash)) {
    throw new AppError('unauthorized', 'the API key is unknown, revoked or wrong');
  }
  return principalOf(key);
}

/**
 * A key named by a client certificate that TLS has already verified against the
 * configured client CA: possession of the certificate's private key stands in
 * for the secret.
 */
export async function authenticateCertificate(db: DbOrTx, keyId: string): Promise<Principal> {
  const key = await findActiveApiKey(db, keyId);
  if (!key) throw new AppError('unauthorized', 'the client certificate names no active API key (its subject CN must be a key id)');
  return principalOf(key);
}

export async function authenticateToken(db: DbOrTx, token: string): Promise<Principal> {
  const parts = parseApiToken(token);
  if (!parts) throw new AppError('unauthorized', 'the API key is malformed (expected <key id>.<secret>)');
  return authenticate(db, parts.keyId, parts.secret);
}

export interface DigestCredentials {
  keyId: string;
  /** Base64 of SHA-1(nonce + created + secret). */
  digest: string;
  /** Base64 of the nonce's bytes. */
  nonce: string;
  /** The Created timestamp exactly as sent (it is part of the digest). */
  created: string;
}

/** A digest is accepted only this close to our clock, and each nonce only once. */
export const DIGEST_WINDOW_MS = 5 * 60_000;

/**
 * Checks a password digest. Only keys created for it (`sealpost key create
 * --password-digest`) keep the sealed secret needed to recompute it.
 */
export async function authenticateDigest(
  ctx: Pick<CoreContext, 'db' | 'cipher'>,
  credentials: DigestCredentials,
  now: Date = new Date(),
): Promise<Principal> {
  const created = Date.parse(credentials.created);
  if (!/^\d{4}-\d\d-\d\dT/.test(credentials.created) || Number.isNaN(created)) {
    throw new AppError('unauthorized', 'the UsernameToken Created time is not an xsd:dateTime');
  }
  if (Math.abs(now.getTime() - created) > DIGEST_WINDOW_MS) {
    throw new AppError('unauthorized', 'the UsernameToken Created time is more than 5 minutes from ours; check the client clock');
  }
  const nonce = decodeDigestPart(credentials.nonce, 'Nonce');
  const digest = decodeDigestPart(credentials.digest, 'Password');
  if (nonce.length < 8 || nonce.length > 64) throw new AppError('unauthorized', 'the UsernameToken Nonce must be 8 to 64 bytes');

  const key = await findActiveApiKey(ctx.db, credentials.keyId);
  if (!key) throw new AppError('unauthorized', 'the API key is unknown, revoked or wrong');
  if (!key.digestSecret) {
    throw new AppError('unauthorized', 'this API key was not created for PasswordDigest (sealpost key create --password-digest); send PasswordText over TLS');
  }
  const secret = ctx.cipher.open(key.digestSecret, digestSecretContext(key.id)).toString('utf8');
  const expected = passwordDigest(nonce, credentials.created, secret);
  if (digest.length !== expected.length || !timingSafeEqual(digest, expected)) {
    throw new AppError('unauthorized', 'the API key is unknown, revoked or wrong');
  }
  if (!(await recordNonce(ctx.db, key.id, createHash('sha256').update(nonce).digest()))) {
    throw new AppError('unauthorized', 'this UsernameToken Nonce was used before (a replayed request)');
  }
  return principalOf(key);
}

/** Associated data binding a sealed digest secret to its key. */
export const digestSecretContext = (keyId: string) => `api-key-secret:${keyId}`;

function decodeDigestPart(text: string, element: string): Buffer {
  try {
    return decodeBase64Strict(text, element);
  } catch {
    throw new AppError('unauthorized', `the UsernameToken ${element} is not base64`);
  }
}

function principalOf(key: NonNullable<Awaited<ReturnType<typeof findActiveApiKey>>>): Principal {
  return { tenantId: key.tenantId, keyId: key.id, role: key.role, senderDomains: key.senderDomains };
}
