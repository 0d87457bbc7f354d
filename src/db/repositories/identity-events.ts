import { and, desc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { identityEvents, type IdentityEventRow } from '../schema.ts';

export type IdentityEventType = 'rollover_issued' | 'rollover_failed';

export async function insertIdentityEvent(
  db: DbOrTx,
  event: { tenantId: string; identityId: string; type: IdentityEventType; successorId?: string | undefined; reason?: string | undefined },
): Promise<void> {
  await db.insert(identityEvents).values({ ...event, successorId: event.successorId ?? null, reason: event.reason ?? null });
}

/** The rollover events that name these identities, as predecessor or successor, newest first. */
export async function listIdentityEvents(db: DbOrTx, tenantId: string, identityIds: string[]): Promise<IdentityEventRow[]> {
  if (identityIds.length === 0) return [];
  const [byIdentity, bySuccessor] = await Promise.all([
    db.select().from(identityEvents).where(and(eq(identityEvents.tenantId, tenantId), inArray(identityEvents.identityId, identityIds))).orderBy(desc(identityEvents.id)),
    db.select().from(identityEvents).where(and(eq(identityEvents.tenantId, tenantId), inArray(identityEvents.successorId, identityIds))).orderBy(desc(identityEvents.id)),
  ]);
  const seen = new Set<number>();
  return [...byIdentity, ...bySuccessor].filter((e) => !seen.has(e.id) && seen.add(e.id)).sort((a, b) => b.id - a.id);
}
