import { isIP } from 'node:net';
import { z } from 'zod';
import { parseMasterKey } from './security/master-key.ts';

/**
 * The one place that reads the environment. Every setting is parsed once against
 * this schema, the type is derived from it, and the result is frozen.
 * docs/configuration.md documents each variable; a test keeps the two in step.
 */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('./var'),

  DATABASE_URL: optionalString,
  DATABASE_POOL_SIZE: positiveInt(10),
  DATABASE_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),

  SEALPOST_MASTER_KEY: optionalString.refine((v) => v === undefined || isMasterKey(v), {
    message: 'must be 32 random bytes as base64 or 64 hex digits (openssl rand -base64 32)',
  }),

  TLS_CERT_FILE: optionalString,
  TLS_KEY_FILE: optionalString,
  TLS_CLIENT_CA_FILE: optionalString,
  CRL_FILES: optionalString,
  CRL_URLS: optionalString.refine((v) => v === undefined || v.split(',').every((u) => u.trim() === '' || /^https?:\/\/[^\s]+$/.test(u.trim())), {
    message: 'must be http:// or https:// URLs, comma-separated',
  }),
  CRL_FETCH: z.enum(['on', 'off']).default('off'),
  OCSP: z.enum(['off', 'on', 'require']).default('off'),
  OCSP_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional()),
  REVOCATION_TIMEOUT_MS: positiveInt(5000),

  SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional()),
  SMTP_TLS_CA_FILE: optionalString,
  SMTP_SINK_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  MESSAGE_ID_DOMAIN: z
    .string()
    .regex(/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'must be a domain name')
    .default('sealpost.invalid'),

  MAX_MESSAGE_BYTES: positiveInt(30 * 1024 * 1024),
  MAX_RECIPIENTS: positiveInt(100),
  MAX_ATTACHMENTS: positiveInt(50),
  RATE_LIMIT_PER_KEY_PER_MINUTE: positiveInt(6000),
  AUTH_FAILURE_LIMIT: positiveInt(20),
  AUTH_FAILURE_WINDOW_SECONDS: positiveInt(300),

  WORKER_ENABLED: booleanFlag.default(true),
  WORKER_CONCURRENCY: positiveInt(4),
  WORKER_POLL_INTERVAL_MS: positiveInt(2000),
  OUTBOX_LEASE_SECONDS: positiveInt(30),
  RETRY_BASE_DELAY_SECONDS: positiveInt(30),
  RETRY_MAX_DELAY_SECONDS: positiveInt(3600),
  RETRY_WINDOW_SECONDS: positiveInt(24 * 3600),
  SMTP_TIMEOUT_MS: positiveInt(60_000),
  // Transport (docs/transport.md): routing, the global default policy, DNS, connection limits.
  DELIVERY_ROUTE: z.enum(['sink', 'mx']).default('sink'),
  TRANSPORT_POLICY: z.enum(['opportunistic', 'enforced-tls', 'mutual-tls']).default('opportunistic'),
  TRANSPORT_CLIENT_CERT_FILE: optionalString,
  TRANSPORT_CLIENT_KEY_FILE: optionalString,
  DNS_SERVERS: optionalString.refine((v) => v === undefined || v.split(',').every((s) => isDnsServer(s.trim())), {
    message: 'must be comma-separated IP addresses, each optionally with a port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)',
  }),
  MX_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  SMTP_MAX_CONNECTIONS: positiveInt(20),
  SMTP_MAX_CONNECTIONS_PER_DESTINATION: positiveInt(5),
  DELIVERY_DELAY_WARNING_SECONDS: positiveInt(12 * 3600),

  SHUTDOWN_GRACE_MS: positiveInt(10_000),

  // Evidence (docs/evidence.md): the service's evidence identity and the policy evidence names.
  EVIDENCE_CERT_FILE: optionalString,
  EVIDENCE_KEY_FILE: optionalString,
  EVIDENCE_POLICY_ID: z.string().min(1).max(200).default('urn:sealpost:evidence-policy:v1'),
  // RFC 3161 time-stamps on evidence, and receipts by mail to senders (docs/evidence.md).
  EVIDENCE_TSA_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  EVIDENCE_TSA_TIMEOUT_MS: positiveInt(10_000),
  EVIDENCE_TSA_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  EVIDENCE_MAIL_RECEIPTS: z.enum(['off', 'registered', 'all']).default('off'),

  // Recipient portal (docs/modes.md): link lifetime, the registered acceptance period, guessing limits.
  PORTAL_TOKEN_TTL_DAYS: positiveInt(30),
  REGISTERED_ACCEPTANCE_DAYS: positiveInt(7),
  PORTAL_FAILURE_LIMIT: positiveInt(20),
  PORTAL_FAILURE_WINDOW_SECONDS: positiveInt(300),
  // Portal accounts (docs/modes.md): lockout, sessions, one-time codes, automatic acceptance of registered mail.
  PORTAL_LOGIN_FAILURE_LIMIT: positiveInt(5),
  PORTAL_LOCKOUT_MINUTES: positiveInt(15),
  PORTAL_SESSION_IDLE_MINUTES: positiveInt(20),
  PORTAL_SESSION_MAX_HOURS: positiveInt(12),
  PORTAL_CODE_TTL_MINUTES: positiveInt(15),
  PORTAL_AUTO_ACCEPT_DOMAINS: optionalString
    .refine((v) => v === undefined || v.split(',').every((d) => /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(d.trim())), {
      message: 'a comma-separated list of domain names (example.com,partner.example)',
    }),

  // Webhooks (docs/webhooks.md): per-attempt timeout and how long an event is retried (backoff: RETRY_BASE/MAX_DELAY_SECONDS).
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  WEBHOOK_RETRY_WINDOW_SECONDS: positiveInt(24 * 3600),

  // Retention (docs/operations.md): content is emptied RETENTION_DAYS after submission; unset = kept for ever.
  RETENTION_DAYS: z.coerce.number().positive().max(36_500).optional(),
  RETENTION_SWEEP_INTERVAL_SECONDS: positiveInt(3600),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),

  // Key rollover (docs/certificates.md): a CA hook issues successors for signing identities nearing expiry.
  ROLLOVER_CA_HOOK: optionalString,
  ROLLOVER_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  ROLLOVER_HOOK_TIMEOUT_MS: positiveInt(60_000),

  // Server-side timeouts against slow or stalled clients (docs/reliability.md).
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(15_000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(120_000),
  HTTP_IDLE_TIMEOUT_MS: positiveInt(60_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(72_000),

  // Back-pressure on submissions (0 turns a check off; docs/reliability.md).
  OVERLOAD_MAX_DUE_JOBS: z.coerce.number().int().min(0).default(100_000),
  OVERLOAD_MAX_DUE_AGE_SECONDS: z.coerce.number().int().min(0).default(600),
  OVERLOAD_MAX_DB_WAITING: z.coerce.number().int().min(0).default(200),
  OVERLOAD_CHECK_INTERVAL_MS: positiveInt(1000),

  // SMTP ingress (docs/ingress.md): business software and mail gateways submitting over SMTP.
  SMTP_INGRESS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SMTP_INGRESS_HOST: optionalString,
  SMTP_INGRESS_TLS_CERT_FILE: optionalString,
  SMTP_INGRESS_TLS_KEY_FILE: optionalString,
  SMTP_INGRESS_CLIENT_CA_FILE: optionalString,
  SMTP_INGRESS_ROUTING_SUFFIX: optionalString.refine((v) => v === undefined || /^\.[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v), {
    message: 'must be a domain suffix starting with a dot, such as .secure.example.com',
  }),
  SMTP_INGRESS_DEFAULT_MODE: z.enum(['confidential', 'personal', 'registered']).default('confidential'),
  SMTP_INGRESS_TENANT_MODES: optionalString.refine(
    (v) => v === undefined || v.split(',').every((e) => /^\s*[0-9a-f-]{36}\s*=\s*(confidential|personal|registered)\s*$/i.test(e)),
    { message: 'must be <tenant id>=<confidential|personal|registered>, comma-separated' },
  ),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function isDnsServer(text: string): boolean {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  const [host, port] = m ? [m[1]!, m[2]] : [text, undefined];
  return isIP(host) !== 0 && (port === undefined || (Number(port) > 0 && Number(port) < 65536));
}

function isMasterKey(text: string): boolean {
  try {
    parseMasterKey(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse an environment (process.env in production, a literal in tests). A variable
 * set to an empty string counts as unset, so `PORT=` means the default, not 0.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = configSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  if (Boolean(config.TLS_CERT_FILE) !== Boolean(config.TLS_KEY_FILE)) {
    throw new ConfigError('invalid configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (config.TLS_CLIENT_CA_FILE && !config.TLS_CERT_FILE) {
    throw new ConfigError('invalid configuration:\n  TLS_CLIENT_CA_FILE requires TLS_CERT_FILE and TLS_KEY_FILE');
  }
  if (Boolean(config.TRANSPORT_CLIENT_CERT_FILE) !== Boolean(config.TRANSPORT_CLIENT_KEY_FILE)) {
    throw new ConfigError('invalid configuration:\n  TRANSPORT_CLIENT_CERT_FILE and TRANSPORT_CLIENT_KEY_FILE must be set together');
  }
  if (Boolean(config.SMTP_INGRESS_TLS_CERT_FILE) !== Boolean(config.SMTP_INGRESS_TLS_KEY_FILE)) {
    throw new ConfigError('invalid configuration:\n  SMTP_INGRESS_TLS_CERT_FILE and SMTP_INGRESS_TLS_KEY_FILE must be set together');
  }
  if (config.SMTP_INGRESS_PORT !== undefined && !config.SMTP_INGRESS_TLS_CERT_FILE && !config.TLS_CERT_FILE) {
    throw new ConfigError('invalid configuration:\n  SMTP_INGRESS_PORT requires a certificate for STARTTLS: SMTP_INGRESS_TLS_CERT_FILE/SMTP_INGRESS_TLS_KEY_FILE or TLS_CERT_FILE/TLS_KEY_FILE');
  }
  if (Boolean(config.EVIDENCE_CERT_FILE) !== Boolean(config.EVIDENCE_KEY_FILE)) {
    throw new ConfigError('invalid configuration:\n  EVIDENCE_CERT_FILE and EVIDENCE_KEY_FILE must be set together');
  }
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return Object.freeze(config);
}

/** Largest HTTP body accepted: the message limit as base64 plus room for JSON or multipart framing. */
export function requestBodyLimit(config: Config): number {
  return Math.ceil((config.MAX_MESSAGE_BYTES * 4) / 3) + 1024 * 1024;
}
