import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from './config.ts';
import type { CoreContext } from './core/context.ts';
import type { Logger } from './logger.ts';
import type pg from 'pg';
import type { SecureServerOptions } from 'node:http2';
import { registerErrorHandling } from './http/error-handler.ts';
import { componentSchemas } from './http/openapi.ts';
import { docsRoutes } from './http/routes/docs.ts';
import { healthRoutes } from './http/routes/health.ts';
import { messageRoutes } from './http/routes/messages.ts';
import { metricsRoutes } from './http/routes/metrics.ts';
import type { Metrics } from './observability/metrics.ts';
import { certificateRoutes } from './http/routes/certificates.ts';
import { proofRoutes } from './http/routes/proofs.ts';
import { transportPolicyRoutes } from './http/routes/transport-policies.ts';
import { OneLinePerRequest } from './http/request-log.ts';
import { RequestThrottle } from './http/throttle.ts';
import { serverTimeouts } from './http/server-timeouts.ts';
import { BackPressure } from './http/back-pressure.ts';
import { readOutboxSnapshot } from './observability/outbox-snapshot.ts';
import { soapRoutes } from './soap/plugin.ts';
import { portalRoutes } from './portal/plugin.ts';
import { receiptRoutes } from './http/routes/receipts.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';

export interface AppDeps {
  config: Config;
  core: CoreContext;
  pool: pg.Pool;
  log: Logger;
  /** When given, /metrics is served and every request is timed. */
  metrics?: Metrics;
  /** Node TLS server options; the app then serves HTTPS. */
  https?: SecureServerOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the HTTP application; listening is the caller's business (server.ts, or inject in tests). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // The HTTPS variant has another server type parameter; routes do not care which.
  const timeouts = serverTimeouts(deps.config);
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    ...(deps.https ? { https: { ...timeouts.node, ...deps.https } } : { http: timeouts.node }),
    ...timeouts.fastify,
    loggerInstance: deps.log,
    logController: new OneLinePerRequest(),
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // No coercion: a body's `"subject": 42` is refused, not turned into "42" (query strings parse their own numbers).
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
    return503OnClosing: true,
  });
  app.decorateRequest('principal', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  for (const schema of componentSchemas()) app.addSchema(schema);
  registerErrorHandling(app);

  await app.register(multipart, {
    limits: {
      fileSize: deps.config.MAX_MESSAGE_BYTES,
      files: deps.config.MAX_ATTACHMENTS,
      fields: 2 * deps.config.MAX_RECIPIENTS + 20,
      fieldSize: deps.config.MAX_MESSAGE_BYTES,
      parts: deps.config.MAX_ATTACHMENTS + 2 * deps.config.MAX_RECIPIENTS + 20,
    },
  });
  if (deps.metrics) await app.register(metricsRoutes, { metrics: deps.metrics });
  await app.register(docsRoutes);
  await app.register(healthRoutes, { pool: deps.pool });
  const throttle = new RequestThrottle({
    authFailures: deps.config.AUTH_FAILURE_LIMIT,
    authFailureWindowMs: deps.config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
    requestsPerMinute: deps.config.RATE_LIMIT_PER_KEY_PER_MINUTE,
  });
  const backPressure = new BackPressure(
    {
      maxDueJobs: deps.config.OVERLOAD_MAX_DUE_JOBS,
      maxDueAgeSeconds: deps.config.OVERLOAD_MAX_DUE_AGE_SECONDS,
      maxDatabaseWaiting: deps.config.OVERLOAD_MAX_DB_WAITING,
      checkIntervalMs: deps.config.OVERLOAD_CHECK_INTERVAL_MS,
    },
    deps.pool,
    () => readOutboxSnapshot(deps.core.db),
    deps.log,
  );
  await app.register(messageRoutes, { prefix: '/v1', core: deps.core, config: deps.config, throttle, backPressure });
  await app.register(certificateRoutes, { prefix: '/v1', core: deps.core, throttle });
  await app.register(proofRoutes, { prefix: '/v1', core: deps.core, throttle });
  await app.register(transportPolicyRoutes, { prefix: '/v1', core: deps.core, throttle });
  await app.register(soapRoutes, { core: deps.core, config: deps.config, throttle, backPressure });
  await app.register(portalRoutes, { core: deps.core, config: deps.config, metrics: deps.metrics });
  await app.register(receiptRoutes, { prefix: '/v1', core: deps.core, throttle });
  await app.register(webhookRoutes, { prefix: '/v1', core: deps.core, throttle });
  return app;
}
