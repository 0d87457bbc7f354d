import { credentialsOf, envelope, operation, textOf, type SoapCredentials } from '../../test/support/soap.ts';

/** One tenant of the run, with its own submitter key. */
export interface PayrollTenant {
  name: string;
  senderDomain: string;
  apiKey: string;
}

/** One payslip: who sends it, to whom, over which door; the attachment is shared by reference. */
export interface Payslip {
  index: number;
  tenant: PayrollTenant;
  door: 'rest' | 'soap';
  /** SOAP only: WS-Security UsernameToken (PasswordText) or HTTP Basic. */
  soapAuth: 'usernameToken' | 'basic';
  idempotencyKey: string;
  to: string;
  attachmentBase64: string;
}

export type SubmitOutcome =
  | { kind: 'acknowledged'; messageId: string; recipientIds: string[]; replayed: boolean; attempts: number }
  | { kind: 'refused'; reason: string; attempts: number }
  | { kind: 'gave_up'; reason: string; attempts: number };

type Attempt =
  | { kind: 'acknowledged'; messageId: string; recipientIds: string[]; replayed: boolean }
  | { kind: 'refused'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

export interface SubmitOptions {
  /** Ports of the APIs; attempt n goes to the next one, so a retry after a dead API goes elsewhere. */
  ports: () => number[];
  maxAttempts: number;
  /** Absolute time (Date.now()) after which no new attempt starts. */
  deadline: number;
  requestTimeoutMs: number;
  onRetry?: (reason: string) => void;
}

/**
 * Submits one payslip until it is acknowledged (REST 2xx, SOAP response), refused
 * (a 4xx / Client fault that retrying cannot change), or the attempts or the time
 * run out. Every attempt carries the same idempotency key and body, so an attempt
 * whose answer was lost (API killed, database restarted) is answered on retry
 * with the message it created (`replayed`) instead of a second message.
 */
export async function submitPayslip(payslip: Payslip, options: SubmitOptions): Promise<SubmitOutcome> {
  let last = 'no attempt made';
  for (let attempt = 1; attempt <= options.maxAttempts && Date.now() < options.deadline; attempt++) {
    const ports = options.ports();
    const port = ports[(payslip.index + attempt - 1) % ports.length]!;
    const result = await attemptOnce(payslip, port, options.requestTimeoutMs);
    if (result.kind !== 'retry') return { ...result, attempts: attempt };
    last = result.reason;
    options.onRetry?.(result.reason);
    const backoff = Math.min(2_000, 100 * 2 ** Math.min(attempt - 1, 5)) * (0.5 + Math.random() / 2);
    await new Promise((r) => setTimeout(r, Math.max(backoff, Math.min(result.retryAfterMs ?? 0, 5_000))));
  }
  return { kind: 'gave_up', reason: last, attempts: options.maxAttempts };
}

async function attemptOnce(payslip: Payslip, port: number, timeoutMs: number): Promise<Attempt> {
  const request = payslip.door === 'rest' ? restRequest(payslip) : soapRequest(payslip);
  let res: Response;
  let body: string;
  try {
    res = await fetch(`http://127.0.0.1:${port}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await res.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { kind: 'retry', reason: `no answer (${cause?.code ?? (error as Error).name})` };
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
  return payslip.door === 'rest'
    ? restOutcome(res.status, res.headers.get('idempotent-replayed') === 'true', body, retryAfterMs)
    : soapOutcome(res.status, body, retryAfterMs);
}

function restRequest(p: Payslip) {
  return {
    path: '/v1/messages',
    headers: { authorization: `Bearer ${p.tenant.apiKey}`, 'content-type': 'application/json', 'idempotency-key': p.idempotencyKey },
    body: JSON.stringify({
      from: `payroll@${p.tenant.senderDomain}`,
      to: [p.to],
      subject: `Payslip November 2026 (${p.index})`,
      text: 'Your payslip is attached.',
      mode: 'confidential',
      reference: `PAY-2026-11-${p.index}`,
      attachments: [{ filename: `payslip-${p.index}.pdf`, contentType: 'application/pdf', content: p.attachmentBase64 }],
    }),
  };
}

function soapRequest(p: Payslip) {
  const credentials: SoapCredentials = credentialsOf(p.tenant.apiKey);
  const xml = envelope(
    operation('SubmitMessage', {
      mode: 'confidential',
      from: `payroll@${p.tenant.senderDomain}`,
      to: { address: p.to },
      subject: `Payslip November 2026 (${p.index})`,
      text: 'Your payslip is attached.',
      attachment: { filename: `payslip-${p.index}.pdf`, contentType: 'application/pdf', content: p.attachmentBase64 },
      reference: `PAY-2026-11-${p.index}`,
      language: 'en',
      idempotencyKey: p.idempotencyKey,
    }),
    p.soapAuth === 'usernameToken' ? credentials : undefined,
  );
  const basic = Buffer.from(`${credentials.keyId}:${credentials.secret}`).toString('base64');
  return {
    path: '/soap/v1',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: '"urn:sealpost:v1/SubmitMessage"',
      ...(p.soapAuth === 'basic' && { authorization: `Basic ${basic}` }),
    },
    body: xml,
  };
}

function restOutcome(status: number, replayed: boolean, body: string, retryAfterMs: number | undefined): Attempt {
  if (status >= 200 && status < 300) {
    const message = JSON.parse(body) as { id: string; recipients: Array<{ id: string }> };
    return { kind: 'acknowledged', messageId: message.id, recipientIds: message.recipients.map((r) => r.id), replayed };
  }
  const code = safeJson(body)?.code ?? 'no code';
  const reason = `REST ${status} ${code}`;
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', reason, ...(retryAfterMs && { retryAfterMs }) };
  return { kind: 'refused', reason };
}

function soapOutcome(status: number, body: string, retryAfterMs: number | undefined): Attempt {
  if (status === 200 && /<(?:[\w.-]+:)?SubmitMessageResponse[\s>]/.test(body)) {
    const recipients = [...body.matchAll(/<(?:[\w.-]+:)?recipient>([\s\S]*?)<\/(?:[\w.-]+:)?recipient>/g)].map((m) => textOf(m[1]!, 'id')!);
    return { kind: 'acknowledged', messageId: textOf(body, 'id')!, recipientIds: recipients, replayed: textOf(body, 'replayed') === 'true' };
  }
  const faultcode = textOf(body, 'faultcode');
  const code = textOf(body, 'code') ?? 'no code';
  const reason = `SOAP ${status} ${faultcode ?? 'no fault'} ${code}`;
  const retryable =
    !faultcode || /Server$/.test(faultcode) || textOf(body, 'retryable') === 'true' || ['rate_limited', 'request_timeout'].includes(code);
  return retryable ? { kind: 'retry', reason, ...(retryAfterMs && { retryAfterMs }) } : { kind: 'refused', reason };
}

function safeJson(text: string): { code?: string } | undefined {
  try {
    return JSON.parse(text) as { code?: string };
  } catch {
    return undefined;
  }
}
