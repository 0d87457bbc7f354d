import { X509Certificate } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { domainToASCII } from 'node:url';
import type { DbOrTx } from '../db/client.ts';
import {
  deleteTransportPolicy,
  findTransportPolicy,
  findTransportPolicyFor,
  listTransportPolicies,
  upsertTransportPolicy,
} from '../db/repositories/transport-policies.ts';
import type { TransportPolicyRow } from '../db/schema.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { readSetting, type SettingsCache } from './settings-cache.ts';
import { authorize, type Principal } from './principal.ts';

/** How strictly a session to a domain must be protected (docs/transport.md). */
export const TransportMode = Object.freeze({
  opportunistic: 'opportunistic',
  enforced_tls: 'enforced-tls',
  mutual_tls: 'mutual-tls',
} as const);
export type TransportMode = (typeof TransportMode)[keyof typeof TransportMode];
export const transportModes = Object.values(TransportMode) as [TransportMode, ...TransportMode[]];

export const transportRoutes = ['mx', 'relay'] as const;
export type TransportRoute = (typeof transportRoutes)[number];

/** A policy as the transport applies it: opened (relay URL with its credentials), never shown to a caller. */
export interface TransportPolicy {
  /** The recipient domain whose policy this is, or `default`. */
  source: string;
  mode: TransportMode;
  route: TransportRoute;
  relayUrl?: string | undefined;
  caPem?: string | undefined;
  clientCertFile?: string | undefined;
  clientKeyFile?: string | undefined;
  business: boolean;
}

/** What an admin puts (REST body or CLI options). */
export interface TransportPolicyInput {
  policy: string;
  route?: string | undefined;
  relayUrl?: string | null | undefined;
  caPem?: string | null | undefined;
  clientCertFile?: string | null | undefined;
  clientKeyFile?: string | null | undefined;
  business?: boolean | undefined;
}

/** What a caller sees: the relay's credentials are never shown. */
export interface TransportPolicyView {
  domain: string;
  policy: TransportMode;
  route: TransportRoute;
  relay: string | null;
  caPem: string | null;
  clientCertFile: string | null;
  clientKeyFile: string | null;
  business: boolean;
  createdAt: string;
  updatedAt: string;
}

const relayContext = (tenantId: string, domain: string) => `transport-policy-relay:${tenantId}:${domain}`;

export async function putTransportPolicy(
  ctx: CoreContext,
  principal: Principal,
  domainText: string,
  input: TransportPolicyInput,
): Promise<{ policy: TransportPolicyView; created: boolean }> {
  authorize(principal, 'tenant:admin');
  const domain = canonicalDomain(domainText);
  const values = validatePolicy(input);
  const relayUrl = values.relayUrl ? ctx.cipher.seal(Buffer.from(values.relayUrl, 'utf8'), relayContext(principal.tenantId, domain)) : null;
  const { row, created } = await upsertTransportPolicy(ctx.db, principal.tenantId, domain, {
    policy: values.policy,
    route: values.route,
    relayUrl,
    relayHost: values.relayUrl ? maskedRelay(values.relayUrl) : null,
    caPem: values.caPem,
    clientCertFile: values.clientCertFile,
    clientKeyFile: values.clientKeyFile,
    business: values.business,
  });
  return { policy: view(row), created };
}

export async function getTransportPolicy(ctx: CoreContext, principal: Principal, domainText: string): Promise<TransportPolicyView> {
  authorize(principal, 'tenant:admin');
  const row = await findTransportPolicy(ctx.db, principal.tenantId, canonicalDomain(domainText));
  if (!row) throw new AppError('not_found', `no transport policy for ${domainText}`);
  return view(row);
}

export async function listTransportPoliciesFor(ctx: CoreContext, principal: Principal): Promise<TransportPolicyView[]> {
  authorize(principal, 'tenant:admin');
  return (await listTransportPolicies(ctx.db, principal.tenantId)).map(view);
}

export async function removeTransportPolicy(ctx: CoreContext, principal: Principal, domainText: string): Promise<void> {
  authorize(principal, 'tenant:admin');
  if (!(await deleteTransportPolicy(ctx.db, principal.tenantId, canonicalDomain(domainText)))) {
    throw new AppError('not_found', `no transport policy for ${domainText}`);
  }
}

/**
 * The policy for mail from `tenantId` to `address`: the recipient domain's own
 * (exact domain), else undefined (the transport then applies the global default).
 */
export async function transportPolicyFor(
  ctx: { db: DbOrTx; cipher: ContentCipher; settings?: SettingsCache | undefined },
  tenantId: string,
  address: string,
): Promise<TransportPolicy | undefined> {
  const { cipher } = ctx;
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const row = await readSetting(ctx, tenantId, `transport-policy:${domain}`, () => findTransportPolicyFor(ctx.db, tenantId, [domain]));
  if (!row) return undefined;
  return {
    source: row.domain,
    mode: row.policy as TransportMode,
    route: row.route as TransportRoute,
    ...(row.relayUrl && { relayUrl: cipher.open(row.relayUrl, relayContext(row.tenantId, row.domain)).toString('utf8') }),
    ...(row.caPem && { caPem: row.caPem }),
    ...(row.clientCertFile && { clientCertFile: row.clientCertFile }),
    ...(row.clientKeyFile && { clientKeyFile: row.clientKeyFile }),
    business: row.business,
  };
}

/** The global default policy (TRANSPORT_POLICY, TRANSPORT_CLIENT_CERT_FILE/KEY_FILE). */
export function defaultTransportPolicy(mode: TransportMode, clientCertFile?: string, clientKeyFile?: string): TransportPolicy {
  return { source: 'default', mode, route: 'mx', business: false, ...(clientCertFile && { clientCertFile }), ...(clientKeyFile && { clientKeyFile }) };
}

/** A mutual-tls policy without its own identity uses the default's files. */
export function withDefaultIdentity(policy: TransportPolicy | undefined, fallback: TransportPolicy): TransportPolicy | undefined {
  if (!policy || policy.mode !== 'mutual-tls' || policy.clientCertFile) return policy;
  return { ...policy, clientCertFile: fallback.clientCertFile, clientKeyFile: fallback.clientKeyFile };
}

function canonicalDomain(text: string): string {
  const domain = domainToASCII(text.trim().toLowerCase());
  const labels = domain.split('.');
  if (!domain || domain.length > 253 || labels.length < 2 || !labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) {
    throw new AppError('invalid_field', `"${text.slice(0, 100)}" is not a domain name`, { field: 'domain' });
  }
  return domain;
}

function validatePolicy(input: TransportPolicyInput) {
  const invalid = (field: string, message: string) => new AppError('invalid_field', message, { field });
  if (!transportModes.includes(input.policy as TransportMode)) {
    throw invalid('policy', `policy must be one of ${transportModes.join(', ')}`);
  }
  const mode = input.policy as TransportMode;
  const route = (input.route ?? 'mx') as TransportRoute;
  if (!transportRoutes.includes(route)) throw invalid('route', `route must be one of ${transportRoutes.join(', ')}`);
  const relayUrl = input.relayUrl ?? null;
  if (route === 'relay' && !relayUrl) throw new AppError('missing_field', 'route "relay" needs relayUrl (smtp://user:pass@host:587 or smtps://…)', { field: 'relayUrl' });
  if (route !== 'relay' && relayUrl) throw invalid('relayUrl', 'relayUrl is only used with route "relay"');
  if (relayUrl) {
    let url: URL | undefined;
    try {
      url = new URL(relayUrl);
    } catch {
      url = undefined;
    }
    if (!url || !/^smtps?:$/.test(url.protocol) || !url.hostname || (url.pathname !== '' && url.pathname !== '/')) {
      throw invalid('relayUrl', 'relayUrl must be an smtp:// or smtps:// URL with a host (and optionally user:password@ and :port)');
    }
  }
  const caPem = input.caPem ?? null;
  if (caPem !== null) validateCaPem(caPem);
  const clientCertFile = input.clientCertFile ?? null;
  const clientKeyFile = input.clientKeyFile ?? null;
  if ((clientCertFile === null) !== (clientKeyFile === null)) {
    throw invalid(clientCertFile === null ? 'clientCertFile' : 'clientKeyFile', 'clientCertFile and clientKeyFile go together');
  }
  if (clientCertFile !== null && mode !== 'mutual-tls') throw invalid('clientCertFile', 'a client certificate is only presented under the mutual-tls policy');
  for (const [field, path] of [['clientCertFile', clientCertFile], ['clientKeyFile', clientKeyFile]] as const) {
    if (path !== null && (!isAbsolute(path) || path.includes('\0') || path.length > 1024)) {
      throw invalid(field, `${field} must be an absolute file path on the worker hosts`);
    }
  }
  return { policy: mode, route, relayUrl, caPem, clientCertFile, clientKeyFile, business: input.business ?? false };
}

function validateCaPem(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0 || pem.length > 1_000_000) {
    throw new AppError('invalid_certificate', 'caPem must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----)', { field: 'caPem' });
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new AppError('invalid_certificate', `caPem holds a certificate that cannot be read: ${(error as Error).message}`, { field: 'caPem' });
    }
  }
}

function maskedRelay(relayUrl: string): string {
  const url = new URL(relayUrl);
  return `${url.protocol}//${url.username ? `${decodeURIComponent(url.username)}:***@` : ''}${url.host}`;
}

function view(row: TransportPolicyRow): TransportPolicyView {
  return {
    domain: row.domain,
    policy: row.policy as TransportMode,
    route: row.route as TransportRoute,
    relay: row.relayHost,
    caPem: row.caPem,
    clientCertFile: row.clientCertFile,
    clientKeyFile: row.clientKeyFile,
    business: row.business,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
