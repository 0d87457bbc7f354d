import type { FastifyRequest } from 'fastify';
import { authenticateCertificate, authenticateToken } from '../core/authenticate.ts';
import { clientCertificateKeyId } from './client-certificate.ts';
import { authenticateThrottled, type RequestThrottle } from './throttle.ts';
import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import type { Db } from '../db/client.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * `Authorization: Bearer <key id>.<secret>` to a principal, or 401. Without the
 * header, a verified TLS client certificate naming a key id will do (mTLS).
 */
export async function authenticateRequest(db: Db, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header) {
    const keyId = clientCertificateKeyId(request);
    if (keyId) return authenticateCertificate(db, keyId);
    throw new AppError('unauthorized', 'missing Authorization header (Bearer <API key>)');
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError('unauthorized', 'the Authorization header must be "Bearer <API key>"');
  return authenticateToken(db, match[1]!);
}

/** The onRequest hook of every authenticated REST route plugin: authentication under the throttle. */
export function authenticationHook(db: Db, throttle: RequestThrottle): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    request.principal = await authenticateThrottled(throttle, request.ip, () => authenticateRequest(db, request));
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route is missing the authentication hook');
  return request.principal;
}
