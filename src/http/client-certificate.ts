import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';

/**
 * The API key id a client certificate names, when the connection is TLS and the
 * certificate was verified against TLS_CLIENT_CA_FILE: its subject CN. Operators
 * issue such certificates from their own client CA, so the CA vouches for the
 * mapping; both doors use it only when a request carries no other credentials.
 */
export function clientCertificateKeyId(request: FastifyRequest): string | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (!socket.encrypted || socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}
