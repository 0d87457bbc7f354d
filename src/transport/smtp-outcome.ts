/**
 * Every way an SMTP hand-over can end, classified once: `temporary` failures are
 * retried with backoff, `permanent` ones end the recipient's delivery.
 */
export type DeliveryOutcome =
  | { kind: 'delivered'; response: string; queueId?: string | undefined }
  | { kind: 'temporary'; reason: string; code?: string | undefined; responseCode?: number | undefined }
  | { kind: 'permanent'; reason: string; code?: string | undefined; responseCode?: number | undefined };

interface SmtpErrorLike {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  command?: string;
}

export function classifySmtpError(error: unknown): Exclude<DeliveryOutcome, { kind: 'delivered' }> {
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
