import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, asAppError, retryAfterSeconds, type ErrorCode } from '../core/errors.ts';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * Maps every failure to `{ code, message, details, requestId }`. AppErrors carry
 * their own code and status; framework errors are translated to the same codes
 * the core uses, so REST and SOAP callers see one vocabulary. 5xx detail stays
 * in the log.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info({ code: appError.code, status: appError.status }, 'request refused');
    }
    return sendError(reply, request, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, request, new AppError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: AppError) {
  if (error.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="sealpost"');
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send({ code: error.code, message: error.message, details: error.details ?? {}, requestId: request.id });
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (e.validation && e.validation.length > 0) return fromValidation(e.validation, e.validationContext ?? 'body');
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError('message_too_large', 'the request body is larger than this server accepts', {}, { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('unsupported_media_type', 'send application/json or multipart/form-data', {}, { cause: error });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_json', 'the JSON body is empty', {}, { cause: error });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'Content-Length does not match the body', {}, { cause: error });
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new AppError('malformed_json', `the body is not valid JSON: ${e.message}`, {}, { cause: error });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('invalid_request', e.message, {}, { cause: error });
  }
  return asAppError(error);
}

function fromValidation(issues: ValidationIssue[], part: string): AppError {
  const issue = issues[0]!;
  const path = issue.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
  const field =
    issue.keyword === 'required' ? [path, String(issue.params.missingProperty)].filter(Boolean).join('.')
    : issue.keyword === 'additionalProperty' || issue.keyword === 'additionalProperties'
      ? [path, String(issue.params.additionalProperty)].filter(Boolean).join('.')
      : path;
  let code: ErrorCode = 'invalid_field';
  if (issue.keyword === 'required') code = 'missing_field';
  else if (issue.keyword === 'additionalProperties') code = 'unknown_field';
  else if (field === 'mode') code = 'invalid_mode';
  const where = part === 'body' ? '' : `${part} `;
  const message =
    code === 'missing_field' ? `"${field}" is required`
    : code === 'unknown_field' ? `unknown field: ${field}`
    : `${where}${field || part} ${issue.message ?? 'is invalid'}`;
  return new AppError(code, message, { field, in: part });
}
