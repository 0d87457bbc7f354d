import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { DbOrTx } from '../db/client.ts';
import { deleteWebhook, findWebhook, listWebhookDeliveries, tenantHasWebhook, upsertWebhook } from '../db/repositories/webhooks.ts';
import type { EventRow, WebhookDeliveryRow, WebhookRow } from '../db/schema.ts';
import { enqueueJob } from '../outbox/enqueue.ts';
import { JobKind } from '../outbox/job-kinds.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { readSetting, type SettingsCache } from './settings-cache.ts';
import { EventType } from './event-types.ts';
import { requireMessage } from './message-queries.ts';
import { authorize, type Principal } from './principal.ts';

/**
 * Logbook events a tenant's webhook is told about: what recipients did
 * (the read receipts) and how each delivery ended.
 */
export const webhookEventTypes: readonly string[] = [
  EventType.delivered,
  EventType.failed,
  EventType.opened,
  EventType.accepted_by_recipient,
  EventType.refused,
  EventType.expired,
];

export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Plain http is accepted only to these hosts, for tests and local receivers. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The associated data the secret is sealed under: a row's secret cannot be moved to another tenant. */
export const webhookSecretContext = (tenantId: string) => `webhook-secret:${tenantId}`;

export interface WebhookView {
  url: string;
  events: readonly string[];
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  messageId: string;
  attempt: number;
  url: string;
  outcome: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  createdAt: string;
}

/**
 * Creates the tenant's webhook, or points it at a new URL. A new webhook (or
 * `rotateSecret`) gets a new signing secret, returned this once; otherwise the
 * secret stays as it was and is not returned.
 */
export async function putWebhook(
  ctx: CoreContext,
  principal: Principal,
  input: { url: string; rotateSecret?: boolean | undefined },
): Promise<{ webhook: WebhookView; created: boolean; secret?: string }> {
  authorize(principal, 'tenant:admin');
  const url = checkWebhookUrl(input.url);
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  const sealed = ctx.cipher.seal(Buffer.from(secret, 'utf8'), webhookSecretContext(principal.tenantId));
  const { row, created } = await upsertWebhook(ctx.db, principal.tenantId, { url, secret: sealed, replaceSecret: input.rotateSecret === true });
  return { webhook: view(row), created, ...((created || input.rotateSecret) && { secret }) };
}

export async function getWebhook(ctx: CoreContext, principal: Principal): Promise<WebhookView> {
  authorize(principal, 'tenant:admin');
  const row = await findWebhook(ctx.db, principal.tenantId);
  if (!row) throw new AppError('not_found', 'this tenant has no webhook');
  return view(row);
}

/** Removes the webhook; events not yet sent are dropped by their jobs (the attempts stay listed). */
export async function removeWebhook(ctx: CoreContext, principal: Principal): Promise<void> {
  authorize(principal, 'tenant:admin');
  if (!(await deleteWebhook(ctx.db, principal.tenantId))) throw new AppError('not_found', 'this tenant has no webhook');
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

/** The attempts to call the webhook, newest first; `messageId` narrows to one message (another tenant's: not_found). */
export async function listWebhookDeliveriesFor(
  ctx: CoreContext,
  principal: Principal,
  query: { messageId?: string | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
  authorize(principal, 'tenant:admin');
  const limit = query.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new AppError('invalid_field', `limit must be an integer from 1 to ${MAX_PAGE}`, { field: 'limit' });
  }
  if (query.cursor !== undefined && !/^[1-9]\d{0,17}$/.test(query.cursor)) {
    throw new AppError('invalid_field', 'cursor is not one this API returned', { field: 'cursor' });
  }
  const message = query.messageId === undefined ? undefined : await requireMessage(ctx, principal, query.messageId);
  const rows = await listWebhookDeliveries(ctx.db, {
    tenantId: principal.tenantId,
    messageId: message?.id,
    before: query.cursor === undefined ? undefined : Number(query.cursor),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return { items: page.map(deliveryView), nextCursor: rows.length > limit ? String(page.at(-1)!.id) : null };
}

/**
 * Queues one `webhook` job per webhook-worthy event just appended, inside the
 * transaction that appends them, when the tenant has a webhook: one primary-key
 * probe, only when such an event is among them, and none in a worker whose
 * settings cache already knows (src/core/settings-cache.ts).
 */
export async function enqueueWebhookNotifications(
  ctx: { db: DbOrTx; settings?: SettingsCache | undefined },
  tenantId: string,
  messageId: string,
  appended: ReadonlyArray<Pick<EventRow, 'id' | 'type'>>,
): Promise<void> {
  const worthy = appended.filter((e) => webhookEventTypes.includes(e.type));
  if (worthy.length === 0 || !(await readSetting(ctx, tenantId, 'has-webhook', () => tenantHasWebhook(ctx.db, tenantId)))) return;
  for (const event of worthy) await enqueueJob(ctx.db, { kind: JobKind.webhook, messageId, payload: { eventId: event.id } });
}

/**
 * The URL rules: https, or http to a loopback host (tests, a local receiver);
 * no user name or password in it; no fragment; at most 2048 characters.
 * Returns the URL as it will be called (WHATWG-normalised).
 */
export function checkWebhookUrl(text: string): string {
  const refuse = (why: string) => new AppError('invalid_webhook_url', `the webhook URL ${why}`, { field: 'url' });
  if (typeof text !== 'string' || text.length === 0) throw refuse('is missing');
  if (text.length > MAX_WEBHOOK_URL_LENGTH) throw refuse(`is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must start with https://');
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw refuse('must use https:// (plain http:// only to localhost, 127.0.0.1 or [::1])');
  }
  if (url.username || url.password) throw refuse('must not contain a user name or password');
  if (url.hash) throw refuse('must not contain a fragment (#…)');
  if (!url.hostname || (isIP(url.hostname) === 0 && !url.hostname.startsWith('[') && !/^[a-z0-9.-]+$/.test(url.hostname))) {
    throw refuse('has no valid host');
  }
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) throw refuse(`is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  return url.href;
}

function view(row: WebhookRow): WebhookView {
  return { url: row.url, events: webhookEventTypes, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

function deliveryView(row: WebhookDeliveryRow): WebhookDeliveryView {
  return {
    id: String(row.id),
    eventId: String(row.eventId),
    eventType: row.eventType,
    messageId: row.messageId,
    attempt: row.attempt,
    url: row.url,
    outcome: row.outcome,
    statusCode: row.statusCode,
    error: row.error,
    durationMs: row.durationMs,
    createdAt: row.createdAt.toISOString(),
  };
}
