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

  SHUTDOWN_GRACE_MS: positiveInt(10_000),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
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
  return Object.freeze(config);
}

/** Largest HTTP body accepted: the message limit as base64 plus room for JSON or multipart framing. */
export function requestBodyLimit(config: Config): number {
  return Math.ceil((config.MAX_MESSAGE_BYTES * 4) / 3) + 1024 * 1024;
}
