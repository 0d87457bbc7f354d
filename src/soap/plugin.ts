import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requestBodyLimit, type Config } from '../config.ts';
import type { CoreContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { sendError, toAppError } from '../http/error-handler.ts';
import type { RequestThrottle } from '../http/throttle.ts';
import type { BackPressure } from '../http/back-pressure.ts';
import { isUtf8 } from 'node:buffer';
import { liftAttachmentContents } from './base64-lift.ts';
import { inspectEnvelope, type EnvelopeLimits } from './envelope-guard.ts';
import { sendFault } from './faults.ts';
import { soapOperations } from './operations.ts';
import { startSoapServer, type SoapCall } from './soap-server.ts';
import { operationNames, readWsdl, soapActionOf, SOAP_PATH, wsdlWithAddress, type OperationName } from './wsdl.ts';

/** Far above what the contract needs (an envelope with 100 recipients and 50 attachments is ~6 levels and ~1,000 elements). */
const envelopeLimits: EnvelopeLimits = { maxDepth: 32, maxElements: 10_000, maxTagLength: 16_384 };

/**
 * The SOAP 1.1 front door: POST /soap/v1 and GET /soap/v1?wsdl as ordinary
 * Fastify routes, so request ids, hooks, body limits and logging apply as for
 * REST. Encapsulated: its body parser and fault-shaped error handler stay here.
 */
export async function soapRoutes(
  app: FastifyInstance,
  opts: { core: CoreContext; config: Config; throttle: RequestThrottle; backPressure: BackPressure },
): Promise<void> {
  const { core, config, throttle, backPressure } = opts;
  const wsdl = readWsdl();
  const soap = await startSoapServer(wsdl, core, soapOperations(core), throttle);
  const bodyLimit = requestBodyLimit(config);

  app.setErrorHandler((error, request, reply) => sendFault(reply, request, toAppError(error)));
  app.removeAllContentTypeParsers();
  // As bytes first: decoding would silently turn bytes that are not UTF-8 into U+FFFD.
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    if (!isUtf8(body as Buffer)) done(new AppError('malformed_xml', 'the body is not valid UTF-8 (SOAP messages here are UTF-8)'), undefined);
    else done(null, (body as Buffer).toString('utf8'));
  });

  app.get<{ Querystring: Record<string, string> }>(SOAP_PATH, async (request, reply) => {
    if (!Object.keys(request.query).some((k) => k.toLowerCase() === 'wsdl')) {
      return sendError(reply, request, new AppError('not_found', `the SOAP endpoint takes POST; its WSDL is at ${SOAP_PATH}?wsdl`));
    }
    return reply.type('text/xml; charset=utf-8').send(wsdlWithAddress(wsdl, config.PUBLIC_BASE_URL ?? `${request.protocol}://${request.host}`));
  });

  app.post(SOAP_PATH, { bodyLimit, onRequest: async (request) => checkContentType(request) }, async (request, reply) => {
    const xml = typeof request.body === 'string' ? request.body : '';
    const { operation } = inspectEnvelope(xml, envelopeLimits);
    checkOperation(operation, request.headers.soapaction);
    if (operation === 'SubmitMessage') await backPressure.assertAcceptingSubmissions();
    // Attachment base64 bypasses node-soap's generic parser (see base64-lift.ts); the operation decodes it.
    const { xml: envelope, lifted } = operation === 'SubmitMessage' ? liftAttachmentContents(xml) : { xml, lifted: undefined };
    const call: SoapCall = { request, invoked: false, ...(lifted && { lifted }) };
    const answer = await soap.dispatch(envelope, call);
    if (call.error) return sendFault(reply, request, call.error, { challenge: call.challenge === true });
    if (!call.invoked || answer.statusCode !== 200) {
      request.log.info({ soapStatus: answer.statusCode, soapAnswer: answer.body.slice(0, 300) }, 'node-soap refused the envelope');
      throw new AppError('malformed_xml', 'the body is not a well-formed SOAP 1.1 message for this service');
    }
    return reply.code(200).type('text/xml; charset=utf-8').send(answer.body);
  });
}

/** Before the body is read: SOAP 1.1 is text/xml in UTF-8. */
function checkContentType(request: FastifyRequest): void {
  const header = request.headers['content-type'] ?? '';
  const [type = '', ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type === 'application/soap+xml') {
    throw new AppError('unsupported_media_type', 'application/soap+xml is SOAP 1.2; this endpoint speaks SOAP 1.1: send text/xml', {
      soapVersion: '1.2',
      supported: '1.1',
    });
  }
  if (type !== 'text/xml' && type !== 'application/xml') {
    throw new AppError('unsupported_media_type', 'SOAP 1.1 requests must be sent as text/xml', { contentType: type });
  }
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new AppError('unsupported_media_type', 'send the envelope in UTF-8', { charset });
  }
}

/** The body element names the operation; a SOAPAction, when sent, must agree with it. */
function checkOperation(operation: string | undefined, soapAction: string | string[] | undefined): asserts operation is OperationName {
  if (operation === undefined) throw new AppError('invalid_request', 'the SOAP Body is missing or empty');
  if (!isOperation(operation)) {
    throw new AppError('invalid_request', `unknown operation ${operation}; this service offers ${operationNames.join(', ')}`, {
      operation,
    });
  }
  const action = (Array.isArray(soapAction) ? soapAction[0] : soapAction)?.trim().replace(/^"(.*)"$/, '$1');
  if (action && action !== soapActionOf(operation) && action !== operation) {
    throw new AppError('invalid_request', `SOAPAction "${action}" does not match the body's operation ${operation} (expected "${soapActionOf(operation)}")`, {
      soapAction: action,
      operation,
    });
  }
}

const isOperation = (name: string): name is OperationName => (operationNames as readonly string[]).includes(name);
