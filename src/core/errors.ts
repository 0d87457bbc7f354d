import { isTransientDatabaseError } from '../db/client.ts';

/**
 * Every error a caller can see, by stable string code. REST answers
 * `{ code, message, details }` with the status below; SOAP answers a Fault whose
 * detail carries the same code. Add a code here, never a status in a front door.
 */
export const errorCodes = {
  invalid_request: { status: 400, retryable: false },
  malformed_json: { status: 400, retryable: false },
  malformed_multipart: { status: 400, retryable: false },
  malformed_xml: { status: 400, retryable: false },
  missing_field: { status: 422, retryable: false },
  unknown_field: { status: 422, retryable: false },
  invalid_field: { status: 422, retryable: false },
  invalid_address: { status: 422, retryable: false },
  invalid_header_value: { status: 422, retryable: false },
  invalid_mode: { status: 422, retryable: false },
  invalid_base64: { status: 422, retryable: false },
  invalid_attachment_name: { status: 422, retryable: false },
  attachment_blocked: { status: 422, retryable: false },
  too_many_recipients: { status: 422, retryable: false },
  too_many_attachments: { status: 422, retryable: false },
  duplicate_recipient: { status: 422, retryable: false },
  duplicate_attachment_name: { status: 422, retryable: false },
  invalid_certificate: { status: 422, retryable: false },
  invalid_pkcs12: { status: 422, retryable: false },
  wrong_password: { status: 422, retryable: false },
  key_mismatch: { status: 422, retryable: false },
  certificate_rejected: { status: 422, retryable: false },
  /** A webhook URL that is not https (or loopback http), carries credentials, or is too long (docs/webhooks.md). */
  invalid_webhook_url: { status: 422, retryable: false },
  sender_not_allowed: { status: 403, retryable: false },
  message_too_large: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  idempotency_conflict: { status: 409, retryable: false },
  not_cancellable: { status: 409, retryable: false },
  certificate_exists: { status: 409, retryable: false },
  rate_limited: { status: 429, retryable: true },
  /** The client was too slow sending its request (server timeouts, src/http/server-timeouts.ts). */
  request_timeout: { status: 408, retryable: true },
  headers_too_large: { status: 431, retryable: false },
  unavailable: { status: 503, retryable: true },
  /** Back-pressure: delivery lags or the database is saturated; submissions wait, reads go on (src/http/back-pressure.ts). */
  overloaded: { status: 503, retryable: true },
  internal_error: { status: 500, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

export type ErrorDetails = Record<string, unknown>;

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = errorCodes[code].status;
    this.retryable = errorCodes[code].retryable;
    this.details = details;
  }
}


/**
 * Seconds a caller should wait before retrying, for errors worth retrying with
 * a delay (rate limits, temporary unavailability): the error's own figure, or a
 * short default. Undefined for the rest, internal errors included.
 */
export function retryAfterSeconds(error: AppError): number | undefined {
  if (!error.retryable || error.status === 500) return undefined;
  const given = error.details?.retryAfterSeconds;
  return typeof given === 'number' && given > 0 ? given : 5;
}

/**
 * Any failure as an AppError: itself when it is one; `unavailable` when the
 * database cannot be reached (nothing was stored, the caller may retry);
 * otherwise `internal_error`, the original kept as the cause.
 */
export function asAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isTransientDatabaseError(error)) {
    return new AppError('unavailable', 'the database cannot be reached right now; nothing was stored, retry shortly', {}, { cause: error });
  }
  return new AppError('internal_error', 'something went wrong on our side; the request id identifies it in our logs', {}, { cause: error });
}
