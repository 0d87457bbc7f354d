import type { FastifyReply, FastifyRequest } from 'fastify';
import { retryAfterSeconds, type AppError } from '../core/errors.ts';
import { SEALPOST_NS, SOAP11_ENVELOPE_NS } from './wsdl.ts';
import { escapeXml } from './xml-text.ts';

/** SOAP 1.1: the caller's fault for 4xx-class errors, ours for the rest. */
export const faultCodeOf = (error: AppError) => (error.status < 500 ? 'soap:Client' : 'soap:Server');

/**
 * One SOAP 1.1 Fault for every failure, whoever raised it: the detail carries the
 * REST error's code, message and details, so both doors speak one vocabulary.
 */
export function faultEnvelope(error: AppError, requestId: string): string {
  const entries = Object.entries(error.details ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `<sp:entry key="${escapeXml(key)}">${escapeXml(typeof value === 'string' ? value : JSON.stringify(value))}</sp:entry>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body><soap:Fault>` +
    `<faultcode>${faultCodeOf(error)}</faultcode>` +
    `<faultstring>${escapeXml(error.message)}</faultstring>` +
    `<detail><sp:SealpostFault xmlns:sp="${SEALPOST_NS}">` +
    `<sp:code>${error.code}</sp:code>` +
    `<sp:message>${escapeXml(error.message)}</sp:message>` +
    `<sp:retryable>${error.retryable}</sp:retryable>` +
    `<sp:requestId>${escapeXml(requestId)}</sp:requestId>` +
    (entries === '' ? '' : `<sp:details>${entries}</sp:details>`) +
    '</sp:SealpostFault></detail></soap:Fault></soap:Body></soap:Envelope>'
  );
}

/**
 * Faults go out as HTTP 500 (SOAP 1.1, WS-I BP R1126). The one exception: a
 * request that carried no credentials at all gets 401 with a Basic challenge, the
 * only way HTTP clients that wait for a challenge (.NET's among them) send them.
 */
export function sendFault(reply: FastifyReply, request: FastifyRequest, error: AppError, options: { challenge?: boolean } = {}) {
  if (error.status >= 500) request.log.error({ err: error.cause ?? error, code: error.code }, 'SOAP request failed');
  else request.log.info({ code: error.code, status: error.status }, 'SOAP request refused');
  if (options.challenge) reply.header('www-authenticate', 'Basic realm="sealpost", charset="UTF-8"');
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  return reply
    .code(options.challenge ? 401 : 500)
    .type('text/xml; charset=utf-8')
    .send(faultEnvelope(error, request.id));
}
