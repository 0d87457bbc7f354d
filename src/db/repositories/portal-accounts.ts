import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { portalAccounts, type PortalAccountRow } from '../schema.ts';

export async function findPortalAccount(db: DbOrTx, address: string): Promise<PortalAccountRow | undefined> {
  const [row] = await db.select().from(portalAccounts).where(eq(portalAccounts.address, address));
  return row;
}

/** The account of an address, created empty when there is none yet. */
export async function ensurePortalAccount(db: DbOrTx, address: string): Promise<void> {
  await db.insert(portalAccounts).values({ address }).onConflictDoNothing();
}

export async function updatePortalAccount(db: DbOrTx, address: string, patch: Partial<typeof portalAccounts.$inferInsert>): Promise<void> {
  await db.update(portalAccounts).set(patch).where(eq(portalAccounts.address, address));
}

/**
 * One failed attempt, counted atomically: at `limit` failures in a row the
 * account is locked until now + lockSeconds and the counter starts again.
 * Returns the lock's end when this failure locked it.
 */
export async function countPortalFailure(db: DbOrTx, address: string, limit: number, lockSeconds: number): Promise<Date | undefined> {
  const result = await db.execute<{ failed_attempts: number }>(sql`
    INSERT INTO portal_accounts (address, failed_attempts) VALUES (${address}, 1)
    ON CONFLICT (address) DO UPDATE SET failed_attempts = portal_accounts.failed_attempts + 1
    RETURNING failed_attempts`);
  const row = result.rows[0];
  if (!row || row.failed_attempts < limit) return undefined;
  const locked = await db.execute<{ locked_until: string }>(sql`
    UPDATE portal_accounts SET failed_attempts = 0, locked_until = now() + make_interval(secs => ${lockSeconds})
    WHERE address = ${address} RETURNING locked_until`);
  const until = locked.rows[0]?.locked_until;
  return until ? new Date(until) : undefined;
}
