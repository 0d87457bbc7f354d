import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../logger.ts';
import { withDefaultIdentity, type TransportPolicy } from '../core/transport-policies.ts';
import type { MxResolver } from './mx-resolver.ts';
import { createIdentityFiles, type IdentityFiles } from './identity-files.ts';
import { createSessionPool, type SessionPool } from './session-pool.ts';
import { openSession, type SessionTarget, type SmtpSession, type TlsRequirement } from './smtp-session.ts';
import { classifySmtpError, PolicyBreach, queueIdFromResponse, type DeliveryOutcome, type DeliveryRecord, type FailedOutcome } from './smtp-outcome.ts';

export interface SmtpTransportOptions {
  /** SMTP_URL (or the local sink's URL): every message goes there unless a policy names its own relay. */
  url?: string | undefined;
  /** The relay at `url` is the development sink: no policy applies, the record says `sink`. */
  sink?: boolean | undefined;
  /** PEM bundle to trust for the relay's certificate in place of the system store. */
  caFile?: string | undefined;
  /** Direct delivery to the recipient domain's MX hosts (DELIVERY_ROUTE=mx, no SMTP_URL). */
  mx?: { resolver: MxResolver; port: number } | undefined;
  /** The global default policy: applies to every domain without its own. */
  defaultPolicy?: TransportPolicy | undefined;
  timeoutMs: number;
  maxConnections: number;
  maxConnectionsPerDestination?: number | undefined;
  /** Our EHLO name. */
  heloName?: string | undefined;
  /** How long a read client certificate/key file is used before it is checked for changes (src/transport/identity-files.ts; 5 s). */
  identityRecheckMs?: number | undefined;
  log: Logger;
}

export interface Envelope {
  from: string;
  to: string;
  /** The recipient domain's transport policy (src/core/transport-policies.ts); the default policy when absent. */
  policy?: TransportPolicy | undefined;
}

export interface MailTransport {
  send(raw: Buffer, envelope: Envelope): Promise<DeliveryOutcome>;
  close(): void;
}

const MAX_ADDRESSES_TRIED = 10;

/**
 * Hands finished messages over SMTP, choosing the route per message: the
 * policy's relay, else SMTP_URL, else the recipient domain's MX hosts. Sessions
 * are reused per destination (nodemailer's SMTPConnection under our own pool, so
 * the delivery record can read the TLS session) and the recipient domain's
 * transport policy decides what TLS the session must have.
 */
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const pool = createSessionPool({
    maxConnections: options.maxConnections,
    maxPerDestination: options.maxConnectionsPerDestination ?? options.maxConnections,
    idleMs: 30_000,
    maxMessagesPerSession: 100,
  });
  const relayCa = options.caFile ? readFileSync(options.caFile) : undefined;
  const files = createIdentityFiles({ recheckMs: options.identityRecheckMs });
  const defaultPolicy: TransportPolicy = options.defaultPolicy ?? { source: 'default', mode: 'opportunistic', route: 'mx', business: false };

  return {
    async send(raw, envelope) {
      const policy = withDefaultIdentity(envelope.policy, defaultPolicy) ?? defaultPolicy;
      try {
        if (policy.route === 'relay' && policy.relayUrl) return await viaRelay(pool, files, options, raw, envelope, policy, policy.relayUrl, policy.caPem);
        if (options.url) return await viaRelay(pool, files, options, raw, envelope, options.sink ? undefined : policy, options.url, relayCa);
        if (options.mx) return await viaMx(pool, files, options, options.mx, raw, envelope, policy);
        return { kind: 'temporary', reason: 'no delivery route is configured (SMTP_URL unset and DELIVERY_ROUTE is not mx)' };
      } catch (error) {
        const outcome = classifySmtpError(error);
        options.log.debug({ err: error, outcome: outcome.kind }, 'SMTP hand-over failed');
        return outcome;
      }
    },
    close() {
      pool.close();
    },
  };
}

async function viaRelay(
  pool: SessionPool,
  files: IdentityFiles,
  options: SmtpTransportOptions,
  raw: Buffer,
  envelope: Envelope,
  policy: TransportPolicy | undefined,
  url: string,
  ca: string | Buffer | undefined,
): Promise<DeliveryOutcome> {
  const u = new URL(url);
  const implicitTls = u.protocol === 'smtps:';
  const target: SessionTarget = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || (implicitTls ? 465 : 587),
    implicitTls,
    // A relay is the operator's own choice: its certificate is always verified, when TLS is used.
    tls: { ...(await tlsFor(files, policy, ca)), verify: true },
    ...(u.username && { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } }),
  };
  const record: DeliveryRecord = { route: policy ? 'relay' : 'sink', ...(policy && { policy: policy.source }), port: target.port };
  return attempt(pool, options, target, raw, envelope, record);
}

async function viaMx(
  pool: SessionPool,
  files: IdentityFiles,
  options: SmtpTransportOptions,
  mx: NonNullable<SmtpTransportOptions['mx']>,
  raw: Buffer,
  envelope: Envelope,
  policy: TransportPolicy,
): Promise<DeliveryOutcome> {
  const domain = envelope.to.slice(envelope.to.lastIndexOf('@') + 1).toLowerCase();
  const destinations = await mx.resolver.destinations(domain);
  const tls = await tlsFor(files, policy, policy.caPem);
  const failures: FailedOutcome[] = [];
  let tried = 0;
  for (const destination of destinations) {
    for (const ip of destination.addresses) {
      if (tried++ >= MAX_ADDRESSES_TRIED) break;
      const target: SessionTarget = { host: ip, port: mx.port, servername: destination.host, implicitTls: false, tls };
      const record: DeliveryRecord = { route: 'mx', policy: policy.source, mxHost: destination.host, ip, port: mx.port };
      const outcome = await attempt(pool, options, target, raw, envelope, record);
      // A reply from the peer (2xx, 4xx or 5xx) is its answer; connection and TLS failures move on to the next address.
      if (outcome.kind === 'delivered' || outcome.responseCode !== undefined) return outcome;
      failures.push(outcome);
      options.log.debug({ mxHost: destination.host, ip, reason: outcome.reason }, 'MX host failed; trying the next');
    }
  }
  // Every host failed without a reply: retry later if any failure may heal, else the first policy breach stands.
  const last = failures.find((f) => f.kind === 'temporary') ?? failures[0]!;
  const summary = failures.length > 1 ? ` (all ${failures.length} MX addresses failed)` : '';
  return { ...last, reason: `${last.reason}${summary}` };
}

/** One hand-over on a pooled session; a reused session the peer has dropped since is replaced once. */
async function attempt(
  pool: SessionPool,
  options: SmtpTransportOptions,
  target: SessionTarget,
  raw: Buffer,
  envelope: Envelope,
  record: DeliveryRecord,
): Promise<DeliveryOutcome> {
  const key = destinationKey(target);
  const open = () => openSession(target, { timeoutMs: options.timeoutMs, name: options.heloName, log: options.log });
  for (let round = 0; round < 2; round++) {
    let retryFresh = false;
    const outcome = await pool
      .withSession(key, open, async (session, reused) => {
        try {
          const { response } = await session.send(raw, { from: envelope.from, to: envelope.to });
          const queueId = queueIdFromResponse(response);
          return { kind: 'delivered', response, queueId, record: { ...record, ...session.details, response, ...(queueId && { queueId }) } } as const;
        } catch (error) {
          const failed = classifySmtpError(error);
          if (reused && failed.responseCode === undefined && !(error instanceof PolicyBreach) && round === 0) retryFresh = true;
          await resetAfterRefusal(session, failed);
          return { ...failed, record: { ...record, ...session.details, ...(failed.reason && { response: failed.reason }) } };
        }
      })
      .catch((error: unknown) => ({ ...classifySmtpError(error), record }));
    if (!retryFresh) return outcome;
  }
  throw new Error('unreachable: the second round always returns');
}

async function resetAfterRefusal(session: SmtpSession, failed: FailedOutcome): Promise<void> {
  if (failed.responseCode === undefined || !session.usable) return;
  await session.reset().catch(() => session.close());
}

/** What TLS the policy asks for; the client identity comes from its files for mutual TLS (kept in memory, re-checked every few seconds). */
async function tlsFor(files: IdentityFiles, policy: TransportPolicy | undefined, ca: string | Buffer | undefined): Promise<TlsRequirement> {
  if (!policy || policy.mode === 'opportunistic') return { required: false, verify: false, ...(ca && { ca }) };
  const tls: TlsRequirement = { required: true, verify: true, ...(ca && { ca }) };
  if (policy.mode === 'mutual-tls') {
    if (!policy.clientCertFile || !policy.clientKeyFile) {
      throw Object.assign(new Error(`the mutual-tls policy for ${policy.source} names no client certificate and key (TRANSPORT_CLIENT_CERT_FILE/KEY_FILE or the policy's own)`), {
        code: 'ECLIENTIDENTITY',
      });
    }
    // Both settled before answering, so no check of the other file is still running when the next send asks.
    const read = await Promise.allSettled([files.read(policy.clientCertFile), files.read(policy.clientKeyFile)]);
    const failed = read.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const error = failed.reason as NodeJS.ErrnoException;
      throw Object.assign(new Error(`cannot read the TLS client identity for ${policy.source}: ${error.code ?? String(error)}`), {
        code: 'ECLIENTIDENTITY',
      });
    }
    [tls.cert, tls.key] = read.map((r) => (r as PromiseFulfilledResult<Buffer>).value);
  }
  return tls;
}

function destinationKey(target: SessionTarget): string {
  const h = createHash('sha256');
  for (const part of [target.tls.ca, target.tls.cert, target.auth?.user, target.auth?.pass]) h.update(part ? String(part) : '-').update('\0');
  return [target.host, target.port, target.servername ?? '', target.implicitTls, target.tls.required, target.tls.verify, h.digest('hex').slice(0, 16)].join('|');
}
