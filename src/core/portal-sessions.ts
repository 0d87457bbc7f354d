import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DbOrTx } from '../db/client.ts';
import {
  addUnlockedRecipient,
  deleteExpiredPortalSessions,
  deletePortalSession,
  findPortalSession,
  insertPortalSession,
  touchPortalSession,
} from '../db/repositories/portal-sessions.ts';
import type { PortalSessionRow } from '../db/schema.ts';

/**
 * Portal sessions (docs/modes.md, "Sessions"). The cookie carries 32 random
 * bytes (base64url); only their SHA-256 is stored. A session ends after
 * `idleSeconds` without use or `maxSeconds` after it began, whichever is first.
 * Each session has its own CSRF token, derived from the session id (HMAC), so a
 * page from another site, which cannot read the cookie, cannot forge it.
 */
export interface SessionPolicy {
  idleSeconds: number;
  maxSeconds: number;
}

export interface PortalSession {
  id: string;
  idHash: Buffer;
  /** The logged-in address (lower-cased); undefined before login. */
  address: string | undefined;
  unlocked: readonly string[];
  csrf: string;
}

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const hashId = (id: string) => createHash('sha256').update(id, 'utf8').digest();

export const csrfTokenOf = (id: string) => createHmac('sha256', id).update('sealpost-portal-csrf-v1').digest('base64url');

/** Constant-time check of a form's CSRF token against the session's. */
export function csrfMatches(session: PortalSession | undefined, given: unknown): boolean {
  if (!session || typeof given !== 'string') return false;
  const expected = Buffer.from(session.csrf, 'utf8');
  const actual = Buffer.from(given, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Starts a session (anonymous, or logged in as `address`); returns it with the id for the cookie. */
export async function startPortalSession(
  db: DbOrTx,
  policy: SessionPolicy,
  address?: string,
  unlocked: string[] = [],
  now: Date = new Date(),
): Promise<PortalSession> {
  // Cheap housekeeping: the table never holds more than the sessions still within their absolute lifetime.
  await deleteExpiredPortalSessions(db, now);
  const id = randomBytes(32).toString('base64url');
  const idHash = hashId(id);
  await insertPortalSession(db, { idHash, address: address ?? null, expiresAt: new Date(now.getTime() + policy.maxSeconds * 1000), lastSeenAt: now, unlocked });
  return { id, idHash, address, unlocked, csrf: csrfTokenOf(id) };
}

/** The live session of a cookie value, touched; undefined (and removed) when unknown, idle too long or too old. */
export async function resumePortalSession(db: DbOrTx, policy: SessionPolicy, id: string | undefined, now: Date = new Date()): Promise<PortalSession | undefined> {
  if (!id || !ID_SHAPE.test(id)) return undefined;
  const idHash = hashId(id);
  const row = await findPortalSession(db, idHash);
  if (!row) return undefined;
  if (isOver(row, policy, now)) {
    await deletePortalSession(db, idHash);
    return undefined;
  }
  await touchPortalSession(db, idHash);
  return { id, idHash, address: row.address ?? undefined, unlocked: row.unlocked, csrf: csrfTokenOf(id) };
}

const isOver = (row: PortalSessionRow, policy: SessionPolicy, now: Date) =>
  row.expiresAt.getTime() <= now.getTime() || row.lastSeenAt.getTime() + policy.idleSeconds * 1000 <= now.getTime();

/** Login: the anonymous session is replaced by a new one (new id, so a planted cookie is worth nothing). */
export async function logInPortalSession(db: DbOrTx, policy: SessionPolicy, previous: PortalSession | undefined, address: string): Promise<PortalSession> {
  if (previous) await deletePortalSession(db, previous.idHash);
  return startPortalSession(db, policy, address);
}

export async function endPortalSession(db: DbOrTx, session: PortalSession): Promise<void> {
  await deletePortalSession(db, session.idHash);
}

export async function markUnlocked(db: DbOrTx, session: PortalSession, recipientId: string): Promise<void> {
  await addUnlockedRecipient(db, session.idHash, recipientId);
}
