import type { FastifyInstance } from 'fastify';
import {
  getRecipientCertificate,
  importRecipientCertificate,
  importTrustAnchor,
  listRecipientCertificatesFor,
  listTrustAnchorsFor,
  removeRecipientCertificate,
  removeTrustAnchor,
} from '../../core/certificates.ts';
import type { CoreContext } from '../../core/context.ts';
import { decodeBase64Strict } from '../../core/encoding.ts';
import { AppError } from '../../core/errors.ts';
import { getIdentity, importIdentity, listIdentities, retireIdentity, type IdentityInput } from '../../core/identities.ts';
import { authenticationHook, principalOf } from '../authentication.ts';
import type { RequestThrottle } from '../throttle.ts';
import { schemaRef } from '../openapi.ts';

interface ImportIdentityBody {
  pkcs12?: string;
  password?: string;
  certificate?: string;
  privateKey?: string;
  chain?: string;
  scope?: string;
  forEvidence?: boolean;
}

interface ImportCertificateBody {
  certificate: string;
  chain?: string;
  scope?: string;
  keyTransport?: string;
}

const errorResponses = { '4xx': schemaRef('Error') };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } };
const json = (name: string) => ({ content: { 'application/json': { schema: schemaRef(name) } } });

/** REST /v1/identities, /v1/certificates, /v1/trust-anchors (admin role): parse, authenticate, call the core. */
export async function certificateRoutes(app: FastifyInstance, opts: { core: CoreContext; throttle: RequestThrottle }): Promise<void> {
  const { core } = opts;
  app.addHook('onRequest', authenticationHook(core.db, opts.throttle));

  app.post<{ Body: ImportIdentityBody }>(
    '/identities',
    { schema: { body: json('ImportIdentityRequest'), response: { 201: schemaRef('Identity'), ...errorResponses } } },
    async (request, reply) => reply.code(201).send(await importIdentity(core, principalOf(request), identityInput(request.body))),
  );
  app.get('/identities', { schema: { response: { 200: schemaRef('IdentityList'), ...errorResponses } } }, async (request) => ({
    items: await listIdentities(core, principalOf(request)),
  }));
  app.get<{ Params: { id: string } }>(
    '/identities/:id',
    { schema: { params: idParams, response: { 200: schemaRef('Identity'), ...errorResponses } } },
    async (request) => getIdentity(core, principalOf(request), request.params.id),
  );
  app.delete<{ Params: { id: string } }>(
    '/identities/:id',
    { schema: { params: idParams, response: { 200: schemaRef('Identity'), ...errorResponses } } },
    async (request) => retireIdentity(core, principalOf(request), request.params.id),
  );

  app.post<{ Body: ImportCertificateBody }>(
    '/certificates',
    { schema: { body: json('ImportCertificateRequest'), response: { 201: schemaRef('RecipientCertificate'), ...errorResponses } } },
    async (request, reply) => reply.code(201).send(await importRecipientCertificate(core, principalOf(request), request.body)),
  );
  app.get<{ Querystring: { address?: string } }>(
    '/certificates',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { address: { type: 'string', maxLength: 254 } } },
        response: { 200: schemaRef('RecipientCertificateList'), ...errorResponses },
      },
    },
    async (request) => ({ items: await listRecipientCertificatesFor(core, principalOf(request), { address: request.query.address }) }),
  );
  app.get<{ Params: { id: string } }>(
    '/certificates/:id',
    { schema: { params: idParams, response: { 200: schemaRef('RecipientCertificate'), ...errorResponses } } },
    async (request) => getRecipientCertificate(core, principalOf(request), request.params.id),
  );
  app.delete<{ Params: { id: string } }>('/certificates/:id', { schema: { params: idParams, response: errorResponses } }, async (request, reply) => {
    await removeRecipientCertificate(core, principalOf(request), request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Body: ImportCertificateBody }>(
    '/trust-anchors',
    { schema: { body: json('ImportTrustAnchorRequest'), response: { 201: schemaRef('TrustAnchor'), ...errorResponses } } },
    async (request, reply) => reply.code(201).send(await importTrustAnchor(core, principalOf(request), request.body)),
  );
  app.get('/trust-anchors', { schema: { response: { 200: schemaRef('TrustAnchorList'), ...errorResponses } } }, async (request) => ({
    items: await listTrustAnchorsFor(core, principalOf(request)),
  }));
  app.delete<{ Params: { id: string } }>('/trust-anchors/:id', { schema: { params: idParams, response: errorResponses } }, async (request, reply) => {
    await removeTrustAnchor(core, principalOf(request), request.params.id);
    return reply.code(204).send();
  });
}

/** JSON carries the PKCS#12 file as base64; which form was sent decides the input. */
function identityInput(body: ImportIdentityBody): IdentityInput {
  const { scope, forEvidence } = body;
  if (body.pkcs12 !== undefined) {
    if (body.certificate !== undefined || body.privateKey !== undefined) {
      throw new AppError('invalid_field', 'send either "pkcs12" with "password", or "certificate" with "privateKey", not both', { field: 'pkcs12' });
    }
    if (body.password === undefined) throw new AppError('missing_field', '"password" is required with "pkcs12"', { field: 'password' });
    return { pkcs12: decodeBase64Strict(body.pkcs12, 'pkcs12'), password: body.password, scope, forEvidence };
  }
  if (body.certificate === undefined) throw new AppError('missing_field', '"pkcs12" (with "password") or "certificate" (with "privateKey") is required', { field: 'pkcs12' });
  if (body.privateKey === undefined) throw new AppError('missing_field', '"privateKey" is required with "certificate"', { field: 'privateKey' });
  return { certificate: body.certificate, privateKey: body.privateKey, chain: body.chain, scope, forEvidence };
}
