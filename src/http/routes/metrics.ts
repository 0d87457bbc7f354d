import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.ts';

/**
 * `/metrics` in the Prometheus text format, open on the API port like `/healthz`
 * (see docs/operations.md), and one duration sample per HTTP request. The route
 * label is the route pattern, never the URL, so ids never become label values.
 * Not encapsulated: the hook must see every route of the app.
 */
export const metricsRoutes = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics }) => {
    const { metrics } = opts;
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpRequest({ method: request.method, route: request.routeOptions.url, statusCode: reply.statusCode, seconds: reply.elapsedTime / 1000 });
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  },
  { name: 'sealpost-metrics', fastify: '5.x' },
);
