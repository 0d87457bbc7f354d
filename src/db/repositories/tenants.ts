import { and, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { apiKeys, tenants, type ApiKeyRow, type TenantRow } from '../schema.ts';
import type { Role } from '../../core/states.ts';

export async function insertTenant(db: DbOrTx, name: string, senderDomains: string[]): Promise<TenantRow> {
  const [row] = await db.insert(tenants).values({ name, senderDomains }).returning();
  return row!;
}

export async function findTenant(db: DbOrTx, id: string): Promise<TenantRow | undefined> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
  return row;
}

export async function insertApiKey(
  db: DbOrTx,
  key: { id: string; tenantId: string; role: Role; secretHash: Buffer; digestSecret?: Buffer },
): Promise<ApiKeyRow> {
  const [row] = await db.insert(apiKeys).values(key).returning();
  return row!;
}

export async function findActiveApiKey(
  db: DbOrTx,
  keyId: string,
): Promise<(ApiKeyRow & { senderDomains: string[] }) | undefined> {
  const [row] = await db
    .select({ key: apiKeys, senderDomains: tenants.senderDomains })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
  return row && { ...row.key, senderDomains: row.senderDomains };
}
