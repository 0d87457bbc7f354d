import { sql } from 'drizzle-orm';
import {

  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { certificateSources, keyTransports } from '../core/certificate-source.ts';
import { messageModes, messageStatuses, recipientKinds, recipientStatuses, roles } from '../core/states.ts';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const roleEnum = pgEnum('api_key_role', roles);
export const messageStatusEnum = pgEnum('message_status', messageStatuses);
export const recipientStatusEnum = pgEnum('recipient_status', recipientStatuses);
export const messageModeEnum = pgEnum('message_mode', messageModes);
export const recipientKindEnum = pgEnum('recipient_kind', recipientKinds);

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  /** Domains the tenant may send from; empty means any (see docs/api.md). */
  senderDomains: text('sender_domains').array().notNull().default(sql`'{}'::text[]`),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    role: roleEnum('role').notNull(),
    secretHash: bytea('secret_hash').notNull(),
    /**
     * The secret itself, sealed with the master key, only for keys created for
     * WS-Security PasswordDigest (which needs it to recompute the digest).
     */
    digestSecret: bytea('digest_secret'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [index('api_keys_tenant_idx').on(t.tenantId)],
);

/** WS-Security nonces seen recently, so a captured PasswordDigest cannot be replayed. */
export const usedNonces = pgTable(
  'used_nonces',
  {
    keyId: text('key_id').notNull().references(() => apiKeys.id),
    nonceHash: bytea('nonce_hash').notNull(),
    seenAt: timestamptz('seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.nonceHash] }), index('used_nonces_seen_idx').on(t.seenAt)],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    status: messageStatusEnum('status').notNull(),
    mode: messageModeEnum('mode').notNull(),
    fromAddress: text('from_address').notNull(),
    language: text('language').notNull(),
    reference: text('reference'),
    /** Subject, bodies and attachment names, sealed with the master key. */
    content: bytea('content').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    submittedBy: text('submitted_by').notNull(),
    idempotencyKey: text('idempotency_key'),
    requestHash: bytea('request_hash'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    /** Retention (src/core/retention.ts): when `content` and the attachments' bytes were emptied; metadata stays. */
    contentDeletedAt: timestamptz('content_deleted_at'),
  },
  (t) => [
    index('messages_tenant_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index('messages_tenant_status_idx').on(t.tenantId, t.status),
    uniqueIndex('messages_idempotency_idx').on(t.tenantId, t.idempotencyKey),
    index('messages_retention_idx').on(t.createdAt).where(sql`content_deleted_at IS NULL`),
  ],
);

export const recipients = pgTable(
  'recipients',
  {
    id: uuid('id').primaryKey(),
    messageId: uuid('message_id').notNull().references(() => messages.id),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    position: integer('position').notNull(),
    kind: recipientKindEnum('kind').notNull(),
    address: text('address').notNull(),
    displayName: text('display_name'),
    status: recipientStatusEnum('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    deliveredAt: timestamptz('delivered_at'),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [index('recipients_message_idx').on(t.messageId, t.position)],
);

export const attachments = pgTable(
  'attachments',
  {
    id: uuid('id').primaryKey(),
    messageId: uuid('message_id').notNull().references(() => messages.id),
    position: integer('position').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: bytea('sha256').notNull(),
    /** The attachment's bytes, sealed with the master key. */
    content: bytea('content').notNull(),
  },
  (t) => [index('attachments_message_idx').on(t.messageId, t.position)],
);

/**
 * The work queue: one row per job still owed. `deliver` jobs (one per recipient copy)
 * are deleted when that delivery settles; other kinds (src/outbox/job-kinds.ts) name
 * their subject in message_id/recipient_id and carry the rest in `payload`.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull().default('deliver'),
    recipientId: uuid('recipient_id').references(() => recipients.id),
    messageId: uuid('message_id').references(() => messages.id),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    runAt: timestamptz('run_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lockedBy: text('locked_by'),
    lockedUntil: timestamptz('locked_until'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('outbox_due_idx').on(t.runAt),
    uniqueIndex('outbox_kind_recipient_idx').on(t.kind, t.recipientId),
    // One evidence job per message not yet claimed: it issues whatever its message owes when it runs (src/outbox/enqueue.ts).
    uniqueIndex('outbox_fresh_evidence_idx').on(t.kind, t.messageId).where(sql`kind = 'evidence' AND attempts = 0`),
  ],
);

/** The logbook: append-only (a trigger in the migrations refuses UPDATE and DELETE). */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    messageId: uuid('message_id').notNull().references(() => messages.id),
    recipientId: uuid('recipient_id').references(() => recipients.id),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamptz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index('events_message_idx').on(t.messageId, t.id)],
);

export const certificateSourceEnum = pgEnum('certificate_source', certificateSources);
export const keyTransportEnum = pgEnum('key_transport', keyTransports);

/**
 * What a signing identity and a recipient certificate both keep: the scope it is
 * for (an address or a whole domain), the certificate (DER), the intermediates
 * that came with it (PEM, to complete the path at validation), and the facts
 * shown in lists (src/core/certificate-rules.ts certificateColumns fills them).
 */
const storedCertificateColumns = () => ({
  scope: text('scope').notNull(),
  certificate: bytea('certificate').notNull(),
  chainPem: text('chain_pem').notNull().default(''),
  fingerprint: text('fingerprint').notNull(),
  subject: text('subject').notNull(),
  issuer: text('issuer').notNull(),
  serial: text('serial').notNull(),
  notBefore: timestamptz('not_before').notNull(),
  notAfter: timestamptz('not_after').notNull(),
});

/**
 * A tenant's signing identities: certificate, chain and private key (sealed with
 * the master key, associated data "identity-key:<id>"). Retired ones stay, to
 * decrypt old mail. `scope` is a sender address or a whole domain.
 */
export const signingIdentities = pgTable(
  'signing_identities',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    ...storedCertificateColumns(),
    privateKey: bytea('private_key').notNull(),
    keyAlgorithm: text('key_algorithm').notNull(),
    /** Also signs the tenant's evidence (docs/evidence.md); the newest valid one marked so is used. */
    forEvidence: boolean('for_evidence').notNull().default(false),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    retiredAt: timestamptz('retired_at'),
  },
  (t) => [
    uniqueIndex('signing_identities_fingerprint_idx').on(t.tenantId, t.fingerprint),
    index('signing_identities_scope_idx').on(t.tenantId, t.scope),
  ],
);

/** Certificates to encrypt to, per recipient address or per domain. */
export const recipientCertificates = pgTable(
  'recipient_certificates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    ...storedCertificateColumns(),
    source: certificateSourceEnum('source').notNull(),
    /** Key transport for RSA certificates (ignored for EC, which use key agreement). */
    keyTransport: keyTransportEnum('key_transport').notNull().default('rsaes-pkcs1-v1_5'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('recipient_certificates_fingerprint_idx').on(t.tenantId, t.fingerprint),
    index('recipient_certificates_scope_idx').on(t.tenantId, t.scope),
  ],
);

/** Roots (or intermediates) certificate paths must end in; tenant_id null = trusted for every tenant. */
export const trustAnchors = pgTable(
  'trust_anchors',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').references(() => tenants.id),
    certificate: bytea('certificate').notNull(),
    fingerprint: text('fingerprint').notNull(),
    subject: text('subject').notNull(),
    notAfter: timestamptz('not_after').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [unique('trust_anchors_fingerprint_key').on(t.tenantId, t.fingerprint).nullsNotDistinct()],
);

export type MessageRow = typeof messages.$inferSelect;
export type RecipientRow = typeof recipients.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type TenantRow = typeof tenants.$inferSelect;
export type AttachmentRow = typeof attachments.$inferSelect;
export type SigningIdentityRow = typeof signingIdentities.$inferSelect;
export type RecipientCertificateRow = typeof recipientCertificates.$inferSelect;
export type TrustAnchorRow = typeof trustAnchors.$inferSelect;

// --- Transport (issue 6): per-domain transport policies (docs/transport.md) ---

/**
 * How mail to one recipient domain leaves, per tenant: the TLS policy
 * (opportunistic | enforced-tls | mutual-tls), the route (mx | relay), the relay
 * URL sealed with the master key (associated data "transport-policy-relay:<id>",
 * it may carry credentials) with its host shown unsealed, a pinned CA, the client
 * certificate and key files for mutual TLS, and whether the domain is a business
 * partner (read by portal routing).
 */
export const transportPolicies = pgTable(
  'transport_policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    domain: text('domain').notNull(),
    policy: text('policy').notNull(),
    route: text('route').notNull().default('mx'),
    relayUrl: bytea('relay_url'),
    relayHost: text('relay_host'),
    caPem: text('ca_pem'),
    clientCertFile: text('client_cert_file'),
    clientKeyFile: text('client_key_file'),
    business: boolean('business').notNull().default(false),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('transport_policies_domain_idx').on(t.tenantId, t.domain)],
);
export type TransportPolicyRow = typeof transportPolicies.$inferSelect;

// --- Recipient portal (issue 7): access tokens, recipient accounts, sessions (docs/modes.md) ---

/**
 * One access link of one recipient's copy: only the SHA-256 of the token is
 * stored (the token itself exists only in the notification mail).
 */
export const portalTokens = pgTable(
  'portal_tokens',
  {
    tokenHash: bytea('token_hash').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    messageId: uuid('message_id').notNull().references(() => messages.id),
    recipientId: uuid('recipient_id').notNull().references(() => recipients.id),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('portal_tokens_recipient_idx').on(t.recipientId)],
);

/**
 * A recipient's portal account, one per address (lower-cased), across tenants:
 * scrypt password hash, when the terms were accepted, the pending one-time
 * registration code (hashed), and the failed-login counter behind the lockout.
 */
export const portalAccounts = pgTable('portal_accounts', {
  address: text('address').primaryKey(),
  passwordHash: text('password_hash'),
  termsAcceptedAt: timestamptz('terms_accepted_at'),
  /** Which version of the terms was accepted (src/portal/i18n.ts TERMS_VERSION). */
  termsVersion: text('terms_version'),
  codeHash: bytea('code_hash'),
  codeExpiresAt: timestamptz('code_expires_at'),
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: timestamptz('locked_until'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

/**
 * Portal sessions; the cookie carries the id, only its SHA-256 is stored. A
 * session starts anonymous (address null: it only carries the CSRF secret of the
 * registration and login forms) and is replaced by a new one at login.
 * `unlocked`: the recipient ids whose sender-supplied unlock code was entered.
 */
export const portalSessions = pgTable(
  'portal_sessions',
  {
    idHash: bytea('id_hash').primaryKey(),
    address: text('address').references(() => portalAccounts.address),
    /** Absolute expiry; idle expiry is last_seen_at + PORTAL_SESSION_IDLE_MINUTES. */
    expiresAt: timestamptz('expires_at').notNull(),
    lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
    unlocked: jsonb('unlocked').$type<string[]>().notNull().default([]),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('portal_sessions_address_idx').on(t.address)],
);

export type PortalTokenRow = typeof portalTokens.$inferSelect;
export type PortalAccountRow = typeof portalAccounts.$inferSelect;
export type PortalSessionRow = typeof portalSessions.$inferSelect;

// --- Evidence (issue 8): signed, hash-chained evidence per logbook event (docs/evidence.md) ---

/**
 * Signed evidence, one per evidence-worthy logbook event: append-only like the
 * logbook (a trigger in the migrations refuses UPDATE, DELETE and TRUNCATE).
 * `sequence` orders a message's evidence; each names the SHA-256 of the previous
 * one's `signed` bytes (the hash chain); `facts` is the model the XML was built from.
 */
export const evidence = pgTable(
  'evidence',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    messageId: uuid('message_id').notNull().references(() => messages.id),
    recipientId: uuid('recipient_id').references(() => recipients.id),
    eventId: bigint('event_id', { mode: 'number' }).notNull().references(() => events.id),
    sequence: integer('sequence').notNull(),
    type: text('type').notNull(),
    facts: jsonb('facts').$type<Record<string, unknown>>().notNull(),
    /** DER ContentInfo(SignedData) with the evidence XML encapsulated. */
    signed: bytea('signed').notNull(),
    sha256: bytea('sha256').notNull(),
    previousSha256: bytea('previous_sha256').notNull(),
    signerFingerprint: text('signer_fingerprint').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('evidence_event_idx').on(t.eventId),
    uniqueIndex('evidence_message_sequence_idx').on(t.messageId, t.sequence),
    index('evidence_tenant_idx').on(t.tenantId),
  ],
);

export type EvidenceRow = typeof evidence.$inferSelect;

// --- Webhooks (issue 7, item 4): receipt and outcome notifications to the tenant (docs/webhooks.md) ---

/**
 * A tenant's webhook (at most one): the URL and the HMAC-SHA256 signing secret,
 * sealed with the master key (associated data "webhook-secret:<tenant id>").
 */
export const webhooks = pgTable('webhooks', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id),
  url: text('url').notNull(),
  secret: bytea('secret').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/** One row per attempt to POST one logbook event to the tenant's webhook: what happened, never the body. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    messageId: uuid('message_id').notNull().references(() => messages.id),
    eventId: bigint('event_id', { mode: 'number' }).notNull().references(() => events.id),
    eventType: text('event_type').notNull(),
    attempt: integer('attempt').notNull(),
    url: text('url').notNull(),
    /** delivered (2xx), retrying, or failed (gave up). */
    outcome: text('outcome').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_deliveries_tenant_idx').on(t.tenantId, t.id), index('webhook_deliveries_message_idx').on(t.messageId, t.id)],
);

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

// --- Key rollover (issue 10, item 4): what the CA hook did for each signing identity (docs/certificates.md) ---

/** One row per rollover attempt: issued (successor_id set) or failed (reason set). Read by GET /v1/identities/{id}. */
export const identityEvents = pgTable(
  'identity_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    identityId: uuid('identity_id').notNull().references(() => signingIdentities.id),
    /** rollover_issued | rollover_failed */
    type: text('type').notNull(),
    successorId: uuid('successor_id').references(() => signingIdentities.id),
    reason: text('reason'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('identity_events_identity_idx').on(t.tenantId, t.identityId, t.id), index('identity_events_successor_idx').on(t.successorId)],
);

export type IdentityEventRow = typeof identityEvents.$inferSelect;

// --- Settings cache (issue 6): what tells workers their cached certificates, identities and policies are stale ---

/**
 * One row: `version` goes up in every transaction that writes trust anchors,
 * signing identities, recipient certificates, transport policies or webhooks (a
 * statement trigger, migrations/0014_settings_version_triggers.sql). The claim
 * query returns it, so a worker drops its cache before a job claimed after a
 * change can use it (src/core/settings-cache.ts).
 */
export const settingsVersion = pgTable(
  'settings_version',
  {
    id: boolean('id').primaryKey().default(true),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('settings_version_single_row', sql`${t.id}`)],
);
