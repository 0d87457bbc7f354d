import type { FastifyRequest } from 'fastify';
import { Server, WSDL, type IServicePort, type ISoapServiceMethod } from 'soap';
import { authenticate, authenticateCertificate, authenticateDigest } from '../core/authenticate.ts';
import { clientCertificateKeyId } from '../http/client-certificate.ts';
import { authenticateThrottled, type RequestThrottle } from '../http/throttle.ts';
import type { CoreContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { toAppError } from '../http/error-handler.ts';
import type { LiftedContents } from './base64-lift.ts';
import type { Operation } from './operations.ts';
import { readCredentials, type Credentials } from './security-header.ts';
import { operationNames, SOAP11_ENVELOPE_NS, SOAP_PATH, SEALPOST_NS, type OperationName } from './wsdl.ts';

/** One request's passage through node-soap: what the route needs to answer it. */
export interface SoapCall {
  request: FastifyRequest;
  /** Set when a service method ran; without it, node-soap refused the message itself. */
  invoked: boolean;
  /** The failure to answer with, whatever node-soap put on the wire. */
  error?: AppError;
  /** No credentials were presented at all: answer with an HTTP auth challenge. */
  challenge?: boolean;
  /** Attachment contents taken out of the envelope before node-soap parsed it, by placeholder. */
  lifted?: LiftedContents;
  /** Ends the wait for node-soap (set by dispatch; used when its serializer throws). */
  abort?: () => void;
}

export interface SoapDispatcher {
  /** Runs node-soap on an envelope; resolves to its HTTP response (the call says how it went). */
  dispatch(xml: string, call: SoapCall): Promise<{ statusCode: number; body: string }>;
}

/**
 * node-soap as a parser and serializer inside our own route (see FINDINGS: never
 * `soap.listen(fastify.server)`). Resolves once the WSDL is loaded and one
 * request has gone through the binding, since node-soap reports neither a broken
 * binding nor an early request any other way than by crashing.
 */
export async function startSoapServer(
  wsdl: string,
  core: CoreContext,
  operations: Record<OperationName, Operation>,
  throttle: RequestThrottle,
): Promise<SoapDispatcher> {
  const port: IServicePort = {};
  for (const name of operationNames) port[name] = serviceMethod(core, operations[name], throttle) as ISoapServiceMethod;
  const server = await new Promise<Server>((resolve, reject) => {
    const definition = new WSDL(wsdl, '', {
      // Numbers and instants stay text here: the core checks them and names the field.
      customDeserializer: { dateTime: (text: string) => text, int: (text: string) => Number(text) },
    });
    // Body text as sent, as REST keeps it. node-soap honours this option only when set on the WSDL.
    definition.options.preserveWhitespace = true;
    new Server(null as never, SOAP_PATH, { SealpostService: { SealpostPort: port } }, definition, {
      path: SOAP_PATH,
      services: {},
      suppressStack: true,
      callback: (err: unknown, ready: Server) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(ready)),
    });
  });
  const dispatcher = dispatcherOf(server);
  await smokeTest(dispatcher);
  return dispatcher;
}

function dispatcherOf(server: Server): SoapDispatcher {
  return {
    dispatch(xml, call) {
      let abort!: () => void;
      const aborted = new Promise<{ statusCode: number; body: string }>((resolve) => {
        abort = () => resolve({ statusCode: 500, body: '' });
      });
      call.abort = abort;
      // SOAPAction was checked against the body already; node-soap dispatches on the body element.
      const { soapaction: _action, ...headers } = call.request.headers;
      return Promise.race([
        server.processRequest(xml, { url: SOAP_PATH, method: 'POST', headers: headers as Record<string, string>, connection: call }),
        aborted,
      ]);
    },
  };
}

type ServiceMethod = (args: unknown, callback: (error: unknown, result?: unknown) => void, soapHeaders: unknown, req: { connection: SoapCall }) => void;

/** Authenticate, run the operation, hand node-soap the result or a placeholder fault (the route renders the real one). */
function serviceMethod(core: CoreContext, operation: Operation, throttle: RequestThrottle): ServiceMethod {
  return (args, callback, soapHeaders, req) => {
    const call = req.connection;
    call.invoked = true;
    const finish = (error: unknown, result?: unknown) => {
      try {
        callback(error, result);
      } catch (e) {
        // node-soap could not serialize: answer from the route instead of hanging.
        call.error ??= toAppError(e);
        call.abort?.();
      }
    };
    void (async () => {
      try {
        const principal = await authenticateThrottled(throttle, call.request.ip, async () => {
          const credentials = readCredentials(soapHeaders, call.request.headers.authorization);
          const certifiedKeyId = credentials ? undefined : clientCertificateKeyId(call.request);
          if (!credentials && !certifiedKeyId) {
            call.challenge = true;
            throw new AppError('unauthorized', 'no credentials: send a WS-Security UsernameToken (key id, secret) or HTTP Basic');
          }
          return credentials ? authenticateCredentials(core, credentials) : authenticateCertificate(core.db, certifiedKeyId!);
        });
        call.request.principal = principal;
        const body = args !== null && typeof args === 'object' ? (args as Record<string, unknown>) : {};
        finish(null, await operation(body, principal, call.lifted));
      } catch (error) {
        call.error = toAppError(error);
        finish({ Fault: { faultcode: 'soap:Server', faultstring: call.error.code, statusCode: 500 } });
      }
    })();
  };
}

/** A request without credentials must reach the service method and come back unauthorized. */
async function smokeTest(dispatcher: SoapDispatcher): Promise<void> {
  const call: SoapCall = { request: { headers: {}, raw: { socket: {} } } as unknown as FastifyRequest, invoked: false };
  const probe = `<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body><GetMessageStatus xmlns="${SEALPOST_NS}"><messageId>probe</messageId></GetMessageStatus></s:Body></s:Envelope>`;
  await dispatcher.dispatch(probe, call);
  if (!call.invoked || call.error?.code !== 'unauthorized') {
    throw new Error(`SOAP binding self-test failed: node-soap did not dispatch GetMessageStatus (${call.error?.code ?? 'no service call'})`);
  }
}

/** A secret as sent (PasswordText, Basic) or a PasswordDigest, checked by the core. */
function authenticateCredentials(core: CoreContext, credentials: Credentials): Promise<Principal> {
  return 'secret' in credentials ? authenticate(core.db, credentials.keyId, credentials.secret) : authenticateDigest(core, credentials);
}
