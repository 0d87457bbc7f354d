import { eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { portalSessions, type PortalSessionRow } from '../schema.ts';

export async function insertPortalSession(db: DbOrTx, row: typeof portalSessions.$inferInsert): Promise<void> {
  await db.insert(portalSessions).values(row);
}

export async function findPortalSession(db: DbOrTx, idHash: Buffer): Promise<PortalSessionRow | undefined> {
  const [row] = await db.select().from(portalSessions).where(eq(portalSessions.idHash, idHash));
  return row;
}

export async function touchPortalSession(db: DbOrTx, idHash: Buffer): Promise<void> {
  await db.update(portalSessions).set({ lastSeenAt: new Date() }).where(eq(portalSessions.idHash, idHash));
}

export async function deletePortalSession(db: DbOrTx, idHash: Buffer): Promise<void> {
  await db.delete(portalSessions).where(eq(portalSessions.idHash, idHash));
}

/** Adds a recipient to the session's unlocked list (once). */
export async function addUnlockedRecipient(db: DbOrTx, idHash: Buffer, recipientId: string): Promise<void> {
  await db.execute(sql`
    UPDATE portal_sessions SET unlocked = unlocked || to_jsonb(${recipientId}::text)
    WHERE id_hash = ${idHash} AND NOT unlocked ? ${recipientId}`);
}

/** Sessions past their absolute expiry; idle ones are removed when next presented. */
export async function deleteExpiredPortalSessions(db: DbOrTx, now: Date): Promise<void> {
  await db.delete(portalSessions).where(lt(portalSessions.expiresAt, now));
}
