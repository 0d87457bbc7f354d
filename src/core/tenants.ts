import type { Db } from '../db/client.ts';
import { findTenant, insertApiKey, insertTenant } from '../db/repositories/tenants.ts';
import { issueApiKey } from '../security/api-key.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import { digestSecretContext } from './authenticate.ts';
import { normaliseAddress } from './address.ts';
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';
import { roles, type Role } from './states.ts';

export interface CreatedKey {
  tenantId: string;
  keyId: string;
  role: Role;
  /** Shown once; only its hash is stored (and, for PasswordDigest keys, a sealed copy). */
  apiKey: string;
  passwordDigest?: boolean;
}

/** Operator use case (CLI): a tenant and its first API key, in one transaction. */
export async function createTenant(
  db: Db,
  name: string,
  options: { senderDomains?: string[]; role?: Role } = {},
): Promise<CreatedKey & { name: string; senderDomains: string[] }> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200 || /[\u0000-\u001f]/.test(trimmed)) {
    throw new AppError('invalid_field', 'tenant name must be 1 to 200 printable characters', { field: 'name' });
  }
  const senderDomains = (options.senderDomains ?? []).map((d) => normaliseAddress(`postmaster@${d}`, 'sender domain').split('@')[1]!);
  return db.transaction(async (tx) => {
    const tenant = await insertTenant(tx, trimmed, senderDomains);
    const key = await issueKey(tx, tenant.id, options.role ?? 'submitter');
    return { ...key, name: tenant.name, senderDomains };
  });
}

/**
 * Another key for a tenant. With `passwordDigest` (a cipher), the secret is also
 * kept sealed with the master key, because WS-Security PasswordDigest can only be
 * checked by recomputing it; other keys exist only as a hash.
 */
export async function createApiKey(
  db: Db,
  tenantId: string,
  role: string,
  options: { passwordDigest?: ContentCipher } = {},
): Promise<CreatedKey> {
  if (!roles.includes(role as Role)) {
    throw new AppError('invalid_field', `role must be one of ${roles.join(', ')}`, { field: 'role' });
  }
  const tenant = isUuid(tenantId) ? await findTenant(db, tenantId) : undefined;
  if (!tenant) throw new AppError('not_found', `tenant ${tenantId} does not exist`);
  return issueKey(db, tenant.id, role as Role, options.passwordDigest);
}

async function issueKey(db: Parameters<typeof insertApiKey>[0], tenantId: string, role: Role, digestCipher?: ContentCipher): Promise<CreatedKey> {
  const key = issueApiKey();
  const digestSecret = digestCipher?.seal(Buffer.from(key.secret, 'utf8'), digestSecretContext(key.keyId));
  await insertApiKey(db, { id: key.keyId, tenantId, role, secretHash: key.secretHash, ...(digestSecret && { digestSecret }) });
  return { tenantId, keyId: key.keyId, role, apiKey: key.token, ...(digestSecret && { passwordDigest: true }) };
}
