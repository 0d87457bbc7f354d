import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { getWebhook, listWebhookDeliveriesFor, putWebhook, removeWebhook } from '../../core/webhooks.ts';
import { authenticationHook, principalOf } from '../authentication.ts';
import { schemaRef } from '../openapi.ts';
import type { RequestThrottle } from '../throttle.ts';

const errorResponses = { '4xx': schemaRef('Error') };

/** REST /v1/webhook (admin role): the tenant's webhook and its delivery attempts (src/core/webhooks.ts). */
export async function webhookRoutes(app: FastifyInstance, opts: { core: CoreContext; throttle: RequestThrottle }): Promise<void> {
  const { core } = opts;
  app.addHook('onRequest', authenticationHook(core.db, opts.throttle));

  app.get('/webhook', { schema: { response: { 200: schemaRef('Webhook'), ...errorResponses } } }, async (request) => getWebhook(core, principalOf(request)));
  app.put<{ Body: { url: string; rotateSecret?: boolean } }>(
    '/webhook',
    {
      schema: {
        body: { content: { 'application/json': { schema: schemaRef('PutWebhookRequest') } } },
        response: { 200: schemaRef('Webhook'), 201: schemaRef('Webhook'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { webhook, created, secret } = await putWebhook(core, principalOf(request), request.body);
      return reply.code(created ? 201 : 200).send({ ...webhook, ...(secret && { secret }) });
    },
  );
  app.delete('/webhook', { schema: { response: errorResponses } }, async (request, reply) => {
    await removeWebhook(core, principalOf(request));
    return reply.code(204).send();
  });
  app.get<{ Querystring: { messageId?: string; cursor?: string; limit?: string } }>(
    '/webhook/deliveries',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            messageId: { type: 'string', maxLength: 64 },
            cursor: { type: 'string', maxLength: 40 },
            // Digits here, the range in the core: its message names the bounds.
            limit: { type: 'string', pattern: '^[0-9]{1,9}$' },
          },
        },
        response: { 200: schemaRef('WebhookDeliveryPage'), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, ...query } = request.query;
      return listWebhookDeliveriesFor(core, principalOf(request), { ...query, ...(limit !== undefined && { limit: Number(limit) }) });
    },
  );
}
