/**
 * What the delivery record keeps about the hand-over that ended an attempt: where
 * it went and how the session was protected. Fields are absent when not known
 * (a connection that never opened has no cipher; the local sink has no MX host).
 */
export interface DeliveryRecord {
  route: 'mx' | 'relay' | 'sink';
  /** The transport policy applied: a recipient domain's, or `default`. */
  policy?: string | undefined;
  mxHost?: string | undefined;
  ip?: string | undefined;
  port?: number | undefined;
  tlsVersion?: string | undefined;
  cipher?: string | undefined;
  /** SHA-256 of the peer's certificate (DER), lowercase hex with colons, as openssl x509 -fingerprint -sha256 prints it. */
  peerCertificateSha256?: string | undefined;
  /** Whether the peer's certificate verified against the trusted CAs and its host name. */
  peerCertificateVerified?: boolean | undefined;
  response?: string | undefined;
  queueId?: string | undefined;
}

/**
 * Every way an SMTP hand-over can end, classified once: `temporary` failures are
 * retried with backoff, `permanent` ones end the recipient's delivery.
 */
export type DeliveryOutcome =
  | { kind: 'delivered'; response: string; queueId?: string | undefined; record?: DeliveryRecord | undefined }
  | { kind: 'temporary'; reason: string; code?: string | undefined; responseCode?: number | undefined; record?: DeliveryRecord | undefined }
  | { kind: 'permanent'; reason: string; code?: string | undefined; responseCode?: number | undefined; record?: DeliveryRecord | undefined };

export type FailedOutcome = Exclude<DeliveryOutcome, { kind: 'delivered' }>;

/** Codes of transport-policy breaches (docs/transport.md): always permanent. */
export const PolicyBreachCode = Object.freeze({
  tls_required: 'tls_required',
  tls_certificate_invalid: 'tls_certificate_invalid',
  tls_client_certificate_refused: 'tls_client_certificate_refused',
  tls_version_too_old: 'tls_version_too_old',
  tls_client_identity_unavailable: 'tls_client_identity_unavailable',
} as const);
export type PolicyBreachCode = (typeof PolicyBreachCode)[keyof typeof PolicyBreachCode];

/** A hand-over refused because the session would not meet the recipient domain's transport policy. */
export class PolicyBreach extends Error {
  override name = 'PolicyBreach';
  readonly code: PolicyBreachCode;
  constructor(code: PolicyBreachCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Mail that cannot be routed at all (no such domain, a null MX): permanent without a reply code. */
export class Unroutable extends Error {
  override name = 'Unroutable';
  readonly code = 'unroutable';
}

interface SmtpErrorLike {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  command?: string;
}

export function classifySmtpError(error: unknown): FailedOutcome {
  if (error instanceof PolicyBreach) return { kind: 'permanent', reason: `${error.code}: ${error.message}`, code: error.code };
  if (error instanceof Unroutable) return { kind: 'permanent', reason: `${error.code}: ${error.message}`, code: error.code };
  const e = (error ?? {}) as SmtpErrorLike;
  const reason = (e.response ?? e.message ?? String(error)).slice(0, 1000);
  const base = { reason, code: e.code, responseCode: e.responseCode };
  // A reply code decides (RFC 5321: 5yz permanent except 503, 4yz transient).
  if (typeof e.responseCode === 'number') {
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    return { kind: permanent ? 'permanent' : 'temporary', ...base };
  }
  // No reply: the connection, DNS, TLS or a timeout failed. Those heal; retry.
  return { kind: 'temporary', ...base };
}

/** The queue id most servers put in their 250 reply ("250 2.0.0 Ok: queued as ABC123"). */
export function queueIdFromResponse(response: string): string | undefined {
  return /queued as ([A-Za-z0-9._-]+)/i.exec(response)?.[1] ?? /^250 (?:[\d.]+ )?(?:OK )?(?:id=)?([A-Za-z0-9._-]{6,})\b/i.exec(response)?.[1];
}
