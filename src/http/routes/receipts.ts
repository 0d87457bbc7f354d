import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { getReadReceipts } from '../../core/receipts.ts';
import { authenticationHook, principalOf } from '../authentication.ts';
import { schemaRef } from '../openapi.ts';
import type { RequestThrottle } from '../throttle.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } };

/** GET /v1/messages/{id}/receipts: read receipts from the logbook (src/core/receipts.ts). */
export async function receiptRoutes(app: FastifyInstance, opts: { core: CoreContext; throttle: RequestThrottle }): Promise<void> {
  app.addHook('onRequest', authenticationHook(opts.core.db, opts.throttle));
  app.get<{ Params: { id: string } }>(
    '/messages/:id/receipts',
    { schema: { params: idParams, response: { 200: schemaRef('ReceiptList'), '4xx': schemaRef('Error') } } },
    async (request) => ({ items: await getReadReceipts(opts.core, principalOf(request), request.params.id) }),
  );
}
