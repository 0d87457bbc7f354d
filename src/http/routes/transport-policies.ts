import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import {
  getTransportPolicy,
  listTransportPoliciesFor,
  putTransportPolicy,
  removeTransportPolicy,
  type TransportPolicyInput,
} from '../../core/transport-policies.ts';
import { authenticationHook, principalOf } from '../authentication.ts';
import type { RequestThrottle } from '../throttle.ts';
import { schemaRef } from '../openapi.ts';

const errorResponses = { '4xx': schemaRef('Error') };
const domainParams = { type: 'object', required: ['domain'], properties: { domain: { type: 'string', minLength: 1, maxLength: 253 } } };

/** REST /v1/transport-policies (admin role): parse, authenticate, call the core (src/core/transport-policies.ts). */
export async function transportPolicyRoutes(app: FastifyInstance, opts: { core: CoreContext; throttle: RequestThrottle }): Promise<void> {
  const { core } = opts;
  app.addHook('onRequest', authenticationHook(core.db, opts.throttle));

  app.get('/transport-policies', { schema: { response: { 200: schemaRef('TransportPolicyList'), ...errorResponses } } }, async (request) => ({
    items: await listTransportPoliciesFor(core, principalOf(request)),
  }));
  app.get<{ Params: { domain: string } }>(
    '/transport-policies/:domain',
    { schema: { params: domainParams, response: { 200: schemaRef('TransportPolicy'), ...errorResponses } } },
    async (request) => getTransportPolicy(core, principalOf(request), request.params.domain),
  );
  app.put<{ Params: { domain: string }; Body: TransportPolicyInput }>(
    '/transport-policies/:domain',
    {
      schema: {
        params: domainParams,
        body: { content: { 'application/json': { schema: schemaRef('PutTransportPolicyRequest') } } },
        response: { 200: schemaRef('TransportPolicy'), 201: schemaRef('TransportPolicy'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { policy, created } = await putTransportPolicy(core, principalOf(request), request.params.domain, request.body);
      return reply.code(created ? 201 : 200).send(policy);
    },
  );
  app.delete<{ Params: { domain: string } }>(
    '/transport-policies/:domain',
    { schema: { params: domainParams, response: errorResponses } },
    async (request, reply) => {
      await removeTransportPolicy(core, principalOf(request), request.params.domain);
      return reply.code(204).send();
    },
  );
}
