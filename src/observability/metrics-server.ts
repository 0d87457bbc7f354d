import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.ts';
import { metricsRoutes } from '../http/routes/metrics.ts';
import type { Metrics } from './metrics.ts';

/**
 * A plain-HTTP listener serving only /metrics (METRICS_PORT): the way to scrape
 * a `sealpost worker`, which has no API, and an internal port for the others.
 */
export async function listenForMetrics(metrics: Metrics, options: { host: string; port: number; log: Logger }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.log.child({ listener: 'metrics' }) as FastifyBaseLogger, disableRequestLogging: true });
  await app.register(metricsRoutes, { metrics });
  const address = await app.listen({ host: options.host, port: options.port });
  options.log.info({ address: `${address}/metrics` }, 'serving metrics');
  return app;
}
