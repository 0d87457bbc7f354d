import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { DbOrTx } from '../db/client.ts';
import { appendEvents } from '../db/repositories/events.ts';
import { countPortalFailure, ensurePortalAccount, findPortalAccount, updatePortalAccount } from '../db/repositories/portal-accounts.ts';
import type { MessageRow, PortalAccountRow, RecipientRow } from '../db/schema.ts';
import { enqueueJob } from '../outbox/enqueue.ts';
import { JobKind } from '../outbox/job-kinds.ts';
import { EventType } from './event-types.ts';
import { burnPasswordCheck, hashPassword, passwordProblem, verifyPassword } from './portal-passwords.ts';
import { unlockCodeMatches, type UnlockCodeHash } from './unlock-code.ts';

/**
 * Portal accounts for personal and registered mail (docs/modes.md, "Accounts"):
 * one per address, across tenants. Registration proves the address with a
 * one-time code mailed to it, sets a password (src/core/portal-passwords.ts) and
 * records the acceptance of the terms; later visits log in. Wrong codes,
 * passwords and unlock codes lock the account after `failureLimit` in a row.
 */
export interface AccountPolicy {
  failureLimit: number;
  lockSeconds: number;
  codeTtlSeconds: number;
  /** Told when a failure locks an account (metrics); optional. */
  onLockout?: () => void;
}

/** The version of the terms of use a registration accepts (recorded on the account and in the logbook). */
export const TERMS_VERSION = '2026-11';
/** A new code is mailed at most this often per address. */
const CODE_RESEND_SECONDS = 60;
const CODE_DIGITS = 8;

export const accountAddress = (address: string) => address.trim().toLowerCase();

export type AccountStep = { step: 'register' } | { step: 'code_sent' } | { step: 'login' } | { step: 'locked'; until: Date };

/** Where an address stands: never registered, code sent, registered (log in), or locked. */
export async function accountStep(db: DbOrTx, address: string, now: Date = new Date()): Promise<AccountStep> {
  const account = await findPortalAccount(db, accountAddress(address));
  const locked = lockedUntil(account, now);
  if (locked) return { step: 'locked', until: locked };
  if (account?.passwordHash) return { step: 'login' };
  if (account?.codeHash && account.codeExpiresAt && account.codeExpiresAt > now) return { step: 'code_sent' };
  return { step: 'register' };
}

const lockedUntil = (account: PortalAccountRow | undefined, now: Date) => (account?.lockedUntil && account.lockedUntil > now ? account.lockedUntil : undefined);

/**
 * Asks for a registration code for the recipient of a copy: queues a
 * `portal_code` job (src/portal/code-job.ts) that creates the code and mails it.
 * Nothing is queued for a registered or locked address, or within a minute of the previous code.
 */
export async function requestRegistrationCode(db: DbOrTx, copy: { message: MessageRow; recipient: RecipientRow }, policy: AccountPolicy, now = new Date()): Promise<'queued' | 'recent' | 'registered' | 'locked'> {
  const address = accountAddress(copy.recipient.address);
  return db.transaction(async (tx) => {
    await ensurePortalAccount(tx, address);
    const account = await findPortalAccount(tx, address);
    if (lockedUntil(account, now)) return 'locked';
    if (account?.passwordHash) return 'registered';
    const issuedAt = account?.codeExpiresAt ? account.codeExpiresAt.getTime() - policy.codeTtlSeconds * 1000 : 0;
    if (now.getTime() - issuedAt < CODE_RESEND_SECONDS * 1000) return 'recent';
    // Marks the request at once (an empty code that cannot match) so a second click within the minute queues nothing.
    await updatePortalAccount(tx, address, { codeHash: Buffer.alloc(0), codeExpiresAt: new Date(now.getTime() + policy.codeTtlSeconds * 1000) });
    await enqueueJob(tx, { kind: JobKind.portal_code, messageId: copy.message.id, recipientId: copy.recipient.id });
    return 'queued';
  });
}

/** Creates the code the job mails: 8 random digits, only a hash stored, valid codeTtlSeconds. */
export async function issueRegistrationCode(db: DbOrTx, address: string, policy: AccountPolicy, now = new Date()): Promise<{ code: string; expiresAt: Date }> {
  const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
  const expiresAt = new Date(now.getTime() + policy.codeTtlSeconds * 1000);
  await ensurePortalAccount(db, accountAddress(address));
  await updatePortalAccount(db, accountAddress(address), { codeHash: codeDigest(address, code), codeExpiresAt: expiresAt });
  return { code, expiresAt };
}

const codeDigest = (address: string, code: string) => createHash('sha256').update(`${accountAddress(address)}:${code}`, 'utf8').digest();

export type RegistrationResult = 'registered' | 'locked' | 'wrong_code' | 'weak_password' | 'password_mismatch' | 'terms_required';

/**
 * Completes a registration: the mailed code, a password (twice) and the terms.
 * A wrong or expired code counts as a failure; a refused password or unticked
 * terms do not (the code stays valid). Records `terms_accepted` on the message.
 */
export async function completeRegistration(
  db: DbOrTx,
  copy: { message: MessageRow; recipient: RecipientRow },
  input: { code: unknown; password: unknown; passwordRepeat: unknown; terms: unknown },
  policy: AccountPolicy,
  now = new Date(),
): Promise<RegistrationResult> {
  const address = accountAddress(copy.recipient.address);
  const account = await findPortalAccount(db, address);
  if (lockedUntil(account, now)) return 'locked';
  const code = typeof input.code === 'string' ? input.code.replace(/\s+/g, '') : '';
  const valid =
    account?.codeHash && account.codeHash.length > 0 && account.codeExpiresAt && account.codeExpiresAt > now && /^[0-9]{8}$/.test(code)
      ? timingSafeEqual(account.codeHash, codeDigest(address, code))
      : false;
  if (!valid || account?.passwordHash) return (await failure(db, address, policy)) ? 'locked' : 'wrong_code';
  const password = typeof input.password === 'string' ? input.password : '';
  if (passwordProblem(password)) return 'weak_password';
  if (password !== input.passwordRepeat) return 'password_mismatch';
  if (input.terms !== 'accept') return 'terms_required';
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await updatePortalAccount(tx, address, {
      passwordHash,
      termsAcceptedAt: now,
      termsVersion: TERMS_VERSION,
      codeHash: null,
      codeExpiresAt: null,
      failedAttempts: 0,
    });
    await appendEvents(tx, [
      {
        tenantId: copy.message.tenantId,
        messageId: copy.message.id,
        recipientId: copy.recipient.id,
        type: EventType.terms_accepted,
        actor: 'recipient:portal',
        detail: { termsVersion: TERMS_VERSION },
      },
    ]);
  });
  return 'registered';
}

/** Address and password; the address must be the one the link was sent to. */
export async function logIn(db: DbOrTx, recipientAddress: string, input: { address: unknown; password: unknown }, policy: AccountPolicy, now = new Date()): Promise<'ok' | 'wrong' | 'locked'> {
  const address = accountAddress(recipientAddress);
  const account = await findPortalAccount(db, address);
  if (lockedUntil(account, now)) return 'locked';
  const password = typeof input.password === 'string' ? input.password.slice(0, 1000) : '';
  const given = typeof input.address === 'string' ? accountAddress(input.address) : '';
  if (!account?.passwordHash || given !== address) {
    await burnPasswordCheck(password);
    if (!account?.passwordHash) return 'wrong';
    return (await failure(db, address, policy)) ? 'locked' : 'wrong';
  }
  if (!(await verifyPassword(password, account.passwordHash))) return (await failure(db, address, policy)) ? 'locked' : 'wrong';
  if (account.failedAttempts > 0) await updatePortalAccount(db, address, { failedAttempts: 0 });
  return 'ok';
}

/** The sender's unlock code, entered after login; a wrong one counts like a wrong password. */
export async function checkUnlockCode(db: DbOrTx, address: string, stored: UnlockCodeHash, given: unknown, policy: AccountPolicy, now = new Date()): Promise<'ok' | 'wrong' | 'locked'> {
  const account = await findPortalAccount(db, accountAddress(address));
  if (lockedUntil(account, now)) return 'locked';
  if (typeof given === 'string' && given.length <= 64 && unlockCodeMatches(stored, given)) return 'ok';
  return (await failure(db, accountAddress(address), policy)) ? 'locked' : 'wrong';
}

export async function lockedAccountUntil(db: DbOrTx, address: string, now = new Date()): Promise<Date | undefined> {
  return lockedUntil(await findPortalAccount(db, accountAddress(address)), now);
}

async function failure(db: DbOrTx, address: string, policy: AccountPolicy): Promise<boolean> {
  const locked = (await countPortalFailure(db, address, policy.failureLimit, policy.lockSeconds)) !== undefined;
  if (locked) policy.onLockout?.();
  return locked;
}
