import { and, asc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { transportPolicies, type TransportPolicyRow } from '../schema.ts';

/** Every query here is filtered by tenant: another tenant's policy is as absent as a missing one. */

export type TransportPolicyValues = Omit<typeof transportPolicies.$inferInsert, 'id' | 'tenantId' | 'domain' | 'createdAt' | 'updatedAt'>;

/** Creates the tenant's policy for `domain`, or replaces it; `created` says which. */
export async function upsertTransportPolicy(
  db: DbOrTx,
  tenantId: string,
  domain: string,
  values: TransportPolicyValues,
): Promise<{ row: TransportPolicyRow; created: boolean }> {
  const [row] = await db
    .insert(transportPolicies)
    .values({ tenantId, domain, ...values })
    .onConflictDoUpdate({ target: [transportPolicies.tenantId, transportPolicies.domain], set: { ...values, updatedAt: new Date() } })
    .returning();
  return { row: row!, created: row!.createdAt.getTime() === row!.updatedAt.getTime() };
}

export async function findTransportPolicy(db: DbOrTx, tenantId: string, domain: string): Promise<TransportPolicyRow | undefined> {
  const [row] = await db
    .select()
    .from(transportPolicies)
    .where(and(eq(transportPolicies.tenantId, tenantId), eq(transportPolicies.domain, domain)));
  return row;
}

/** The first of `domains` (most specific first) that has a policy. */
export async function findTransportPolicyFor(db: DbOrTx, tenantId: string, domains: string[]): Promise<TransportPolicyRow | undefined> {
  const rows = await db
    .select()
    .from(transportPolicies)
    .where(and(eq(transportPolicies.tenantId, tenantId), inArray(transportPolicies.domain, domains)));
  return domains.map((d) => rows.find((r) => r.domain === d)).find((r) => r !== undefined);
}

export async function listTransportPolicies(db: DbOrTx, tenantId: string): Promise<TransportPolicyRow[]> {
  return db.select().from(transportPolicies).where(eq(transportPolicies.tenantId, tenantId)).orderBy(asc(transportPolicies.domain));
}

export async function deleteTransportPolicy(db: DbOrTx, tenantId: string, domain: string): Promise<boolean> {
  const rows = await db
    .delete(transportPolicies)
    .where(and(eq(transportPolicies.tenantId, tenantId), eq(transportPolicies.domain, domain)))
    .returning({ id: transportPolicies.id });
  return rows.length > 0;
}
