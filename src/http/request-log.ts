import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request, written when it ends (Fastify writes two: incoming
 * and completed). The request's child logger adds `reqId`; bodies and headers
 * are never logged.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: withoutPortalToken(request.url), statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** Portal links carry their access token in the path (/r/<token>/…): never logged. */
export const withoutPortalToken = (url: string) => url.replace(/^\/r\/[^/?#]+/, '/r/[redacted]');
