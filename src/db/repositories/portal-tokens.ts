import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { portalTokens, type PortalTokenRow } from '../schema.ts';

export async function insertPortalToken(db: DbOrTx, row: typeof portalTokens.$inferInsert): Promise<void> {
  await db.insert(portalTokens).values(row);
}

export async function findPortalToken(db: DbOrTx, tokenHash: Buffer): Promise<PortalTokenRow | undefined> {
  const [row] = await db.select().from(portalTokens).where(eq(portalTokens.tokenHash, tokenHash));
  return row;
}
