import type { DbOrTx } from '../db/client.ts';
import { findActiveApiKey } from '../db/repositories/tenants.ts';
import { parseApiToken, secretMatches } from '../security/api-key.ts';
import { AppError } from './errors.ts';
import type { Principal } from './principal.ts';

/** Resolves a key id and secret (REST bearer token, SOAP UsernameToken, HTTP Basic) to a principal. */
export async function authenticate(db: DbOrTx, keyId: string, secret: string): Promise<Principal> {
  const key = await findActiveApiKey(db, keyId);
  if (!key || !secretMatches(secret, key.secretHash)) {
    throw new AppError('unauthorized', 'the API key is unknown, revoked or wrong');
  }
  return { tenantId: key.tenantId, keyId: key.id, role: key.role, senderDomains: key.senderDomains };
}

export async function authenticateToken(db: DbOrTx, token: string): Promise<Principal> {
  const parts = parseApiToken(token);
  if (!parts) throw new AppError('unauthorized', 'the API key is malformed (expected <key id>.<secret>)');
  return authenticate(db, parts.keyId, parts.secret);
}
