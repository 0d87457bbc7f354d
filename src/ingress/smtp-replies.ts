import { asAppError, type ErrorCode } from '../core/errors.ts';

/** An SMTP reply: basic code and enhanced status code (RFC 3463), and the text. */
export interface SmtpReply {
  code: number;
  enhanced: string;
  message: string;
}

/** An Error smtp-server turns into the reply `code enhanced message`. */
export type SmtpError = Error & { responseCode: number };

/**
 * Core error codes as SMTP replies (docs/ingress.md, "Replies"). What the
 * client must change is permanent (5xx, the sending MTA bounces it with our
 * text); what may pass on its own is temporary (4xx, the MTA retries).
 */
const replies: Partial<Record<ErrorCode, [number, string]>> = {
  unauthorized: [535, '5.7.8'],
  forbidden: [550, '5.7.1'],
  sender_not_allowed: [550, '5.7.1'],
  invalid_address: [553, '5.1.3'],
  message_too_large: [552, '5.3.4'],
  too_many_recipients: [452, '4.5.3'],
  attachment_blocked: [550, '5.7.1'],
  idempotency_conflict: [550, '5.7.0'],
  rate_limited: [451, '4.7.0'],
  unavailable: [451, '4.3.0'],
  overloaded: [451, '4.3.2'],
  internal_error: [451, '4.3.0'],
};

export function replyFor(error: unknown): SmtpReply {
  const app = asAppError(error);
  // Encrypted mail none of our keys opens: RFC 3463 X.7.5, cryptographic failure.
  if (app.details?.smime !== undefined) return { code: 554, enhanced: '5.7.5', message: messageOf(app.code, app.message) };
  const known = replies[app.code];
  if (known) return { code: known[0], enhanced: known[1], message: messageOf(app.code, app.message) };
  // Everything else is something wrong with the message itself: permanent, naming the problem.
  if (app.retryable) return { code: 451, enhanced: '4.3.0', message: messageOf(app.code, app.message) };
  return { code: 554, enhanced: '5.6.0', message: messageOf(app.code, app.message) };
}

/** Internal errors never show their cause; everything else names the problem and its code. */
function messageOf(code: ErrorCode, text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  return `${oneLine} (${code})`;
}

export function smtpError(reply: SmtpReply): SmtpError {
  return Object.assign(new Error(`${reply.enhanced} ${reply.message}`), { responseCode: reply.code });
}

export const reply = (code: number, enhanced: string, message: string): SmtpError => smtpError({ code, enhanced, message });
