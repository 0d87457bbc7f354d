import { and, desc, eq, inArray, isNull, or } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import {
  recipientCertificates,
  signingIdentities,
  trustAnchors,
  type RecipientCertificateRow,
  type SigningIdentityRow,
  type TrustAnchorRow,
} from '../schema.ts';

/** Every query here is filtered by tenant: another tenant's row is as absent as a missing one. */

export async function insertSigningIdentity(db: DbOrTx, row: typeof signingIdentities.$inferInsert): Promise<SigningIdentityRow> {
  const [inserted] = await db.insert(signingIdentities).values(row).returning();
  return inserted!;
}

export async function findSigningIdentity(db: DbOrTx, tenantId: string, id: string): Promise<SigningIdentityRow | undefined> {
  const [row] = await db.select().from(signingIdentities).where(and(eq(signingIdentities.tenantId, tenantId), eq(signingIdentities.id, id)));
  return row;
}

/** Newest first; with `scopes`, only those scopes, and only the ones not retired. */
/** A tenant's identities; with `tenantId: undefined`, every tenant's (operator checks such as expiry). */
export async function listSigningIdentities(
  db: DbOrTx,
  tenantId: string | undefined,
  filter: { scopes?: string[]; activeOnly?: boolean } = {},
): Promise<SigningIdentityRow[]> {
  return db
    .select()
    .from(signingIdentities)
    .where(
      and(
        tenantId === undefined ? undefined : eq(signingIdentities.tenantId, tenantId),
        filter.scopes && inArray(signingIdentities.scope, filter.scopes),
        filter.activeOnly ? isNull(signingIdentities.retiredAt) : undefined,
      ),
    )
    .orderBy(desc(signingIdentities.notBefore), desc(signingIdentities.createdAt));
}

export async function retireSigningIdentity(db: DbOrTx, tenantId: string, id: string, at: Date): Promise<SigningIdentityRow | undefined> {
  const [row] = await db
    .update(signingIdentities)
    .set({ retiredAt: at })
    .where(and(eq(signingIdentities.tenantId, tenantId), eq(signingIdentities.id, id), isNull(signingIdentities.retiredAt)))
    .returning();
  return row;
}

export async function insertRecipientCertificate(db: DbOrTx, row: typeof recipientCertificates.$inferInsert): Promise<RecipientCertificateRow> {
  const [inserted] = await db.insert(recipientCertificates).values(row).returning();
  return inserted!;
}

export async function findRecipientCertificate(db: DbOrTx, tenantId: string, id: string): Promise<RecipientCertificateRow | undefined> {
  const [row] = await db
    .select()
    .from(recipientCertificates)
    .where(and(eq(recipientCertificates.tenantId, tenantId), eq(recipientCertificates.id, id)));
  return row;
}

export async function listRecipientCertificates(db: DbOrTx, tenantId: string, scopes?: string[]): Promise<RecipientCertificateRow[]> {
  return db
    .select()
    .from(recipientCertificates)
    .where(and(eq(recipientCertificates.tenantId, tenantId), scopes && inArray(recipientCertificates.scope, scopes)))
    .orderBy(desc(recipientCertificates.notBefore), desc(recipientCertificates.createdAt));
}

export async function deleteRecipientCertificate(db: DbOrTx, tenantId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(recipientCertificates)
    .where(and(eq(recipientCertificates.tenantId, tenantId), eq(recipientCertificates.id, id)))
    .returning({ id: recipientCertificates.id });
  return rows.length > 0;
}

/** `tenantId` null inserts a global anchor (operators, CLI). */
export async function insertTrustAnchor(db: DbOrTx, row: typeof trustAnchors.$inferInsert): Promise<TrustAnchorRow> {
  const [inserted] = await db.insert(trustAnchors).values(row).returning();
  return inserted!;
}

/** The tenant's own anchors and the global ones. */
export async function listTrustAnchors(db: DbOrTx, tenantId: string): Promise<TrustAnchorRow[]> {
  return db
    .select()
    .from(trustAnchors)
    .where(or(eq(trustAnchors.tenantId, tenantId), isNull(trustAnchors.tenantId)))
    .orderBy(desc(trustAnchors.createdAt));
}

/** Only the tenant's own anchors can be deleted through the tenant. */
export async function deleteTrustAnchor(db: DbOrTx, tenantId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(trustAnchors)
    .where(and(eq(trustAnchors.tenantId, tenantId), eq(trustAnchors.id, id)))
    .returning({ id: trustAnchors.id });
  return rows.length > 0;
}
