/**
 * Delivery states, per recipient, as DESIGN.md names them. Mirrored by the
 * Postgres enum `recipient_status`; every transition is checked here.
 */
export const RecipientStatus = Object.freeze({
  accepted: 'accepted',
  processing: 'processing',
  delivered: 'delivered',
  opened: 'opened',
  accepted_by_recipient: 'accepted_by_recipient',
  refused: 'refused',
  expired: 'expired',
  retrying: 'retrying',
  failed: 'failed',
  cancelled: 'cancelled',
} as const);
export type RecipientStatus = (typeof RecipientStatus)[keyof typeof RecipientStatus];
export const recipientStatuses = Object.values(RecipientStatus) as [RecipientStatus, ...RecipientStatus[]];

const transitions: Readonly<Record<RecipientStatus, readonly RecipientStatus[]>> = {
  accepted: ['processing', 'cancelled'],
  // processing -> processing: a worker re-claims a job whose lease ran out.
  processing: ['processing', 'delivered', 'retrying', 'failed'],
  retrying: ['processing', 'failed', 'cancelled'],
  delivered: ['opened', 'accepted_by_recipient', 'refused', 'expired'],
  opened: ['accepted_by_recipient', 'refused', 'expired'],
  accepted_by_recipient: ['opened'],
  refused: [],
  expired: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: RecipientStatus, to: RecipientStatus): boolean {
  return transitions[from].includes(to);
}

/** States in which the sender may still cancel a recipient's delivery. */
export const cancellableStatuses: readonly RecipientStatus[] = ['accepted', 'retrying'];

/** States in which a delivery is still owed (a job exists or will be taken). */
export const pendingStatuses: readonly RecipientStatus[] = ['accepted', 'processing', 'retrying'];
const unsuccessfulStatuses: readonly RecipientStatus[] = ['failed', 'cancelled'];

/**
 * A message's status summarises its recipients'. Mirrored by the Postgres enum
 * `message_status`.
 */
export const MessageStatus = Object.freeze({
  ...RecipientStatus,
  partially_delivered: 'partially_delivered',
} as const);
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];
export const messageStatuses = Object.values(MessageStatus) as [MessageStatus, ...MessageStatus[]];

/**
 * - all recipients in one state: that state;
 * - any delivery still owed: `processing`;
 * - all settled, some succeeded and some failed or were cancelled: `partially_delivered`;
 * - all settled, all unsuccessful but mixed: `failed`;
 * - all settled and successful but in different post-delivery states: `delivered`.
 */
export function summariseStatus(states: readonly RecipientStatus[]): MessageStatus {
  const first = states[0];
  if (first === undefined) throw new Error('a message has at least one recipient');
  if (states.every((s) => s === first)) return first;
  if (states.some((s) => pendingStatuses.includes(s))) return 'processing';
  const unsuccessful = states.filter((s) => unsuccessfulStatuses.includes(s)).length;
  if (unsuccessful === 0) return 'delivered';
  return unsuccessful === states.length ? 'failed' : 'partially_delivered';
}

export const MessageMode = Object.freeze({
  confidential: 'confidential',
  personal: 'personal',
  registered: 'registered',
} as const);
export type MessageMode = (typeof MessageMode)[keyof typeof MessageMode];
export const messageModes = Object.values(MessageMode) as [MessageMode, ...MessageMode[]];

export const Role = Object.freeze({ submitter: 'submitter', auditor: 'auditor', admin: 'admin' } as const);
export type Role = (typeof Role)[keyof typeof Role];
export const roles = Object.values(Role) as [Role, ...Role[]];

export const RecipientKind = Object.freeze({ to: 'to', cc: 'cc' } as const);
export type RecipientKind = (typeof RecipientKind)[keyof typeof RecipientKind];
export const recipientKinds = Object.values(RecipientKind) as [RecipientKind, ...RecipientKind[]];

export const languages = ['de', 'fr', 'it', 'en'] as const;
export type Language = (typeof languages)[number];
