import type { Config } from '../config.ts';

/** Where recipients reach the portal: PUBLIC_BASE_URL, else this server's own address (local trials only). */
export function portalBaseUrl(config: Pick<Config, 'PUBLIC_BASE_URL' | 'HOST' | 'PORT'>): string {
  if (config.PUBLIC_BASE_URL) return config.PUBLIC_BASE_URL.replace(/\/+$/, '');
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  return `http://${host}:${config.PORT}`;
}

export const portalLink = (baseUrl: string, token: string) => `${baseUrl}/r/${token}`;

/** What the worker needs to issue portal links (src/worker/prepare-copy.ts). */
export function portalDeliverySettings(config: Config) {
  return {
    baseUrl: portalBaseUrl(config),
    tokenTtlSeconds: config.PORTAL_TOKEN_TTL_DAYS * 86_400,
    registeredTtlSeconds: config.REGISTERED_ACCEPTANCE_DAYS * 86_400,
  };
}

/** Lockout and one-time code settings of portal accounts (src/core/portal-accounts.ts). */
export function portalAccountPolicy(config: Config) {
  return {
    failureLimit: config.PORTAL_LOGIN_FAILURE_LIMIT,
    lockSeconds: config.PORTAL_LOCKOUT_MINUTES * 60,
    codeTtlSeconds: config.PORTAL_CODE_TTL_MINUTES * 60,
  };
}

/** Idle and absolute lifetime of portal sessions (src/core/portal-sessions.ts). */
export function portalSessionPolicy(config: Config) {
  return { idleSeconds: config.PORTAL_SESSION_IDLE_MINUTES * 60, maxSeconds: config.PORTAL_SESSION_MAX_HOURS * 3600 };
}

/** PORTAL_AUTO_ACCEPT_DOMAINS as a list of lower-case domains. */
export const autoAcceptDomains = (config: Pick<Config, 'PORTAL_AUTO_ACCEPT_DOMAINS'>): string[] =>
  (config.PORTAL_AUTO_ACCEPT_DOMAINS ?? '').split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
