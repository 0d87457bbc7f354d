import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { getProof, getProofReceipt, listProofs } from '../../core/proofs.ts';
import { authenticationHook, principalOf } from '../authentication.ts';
import { schemaRef } from '../openapi.ts';
import type { RequestThrottle } from '../throttle.ts';

const errorResponses = { '4xx': schemaRef('Error') };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } };

/** REST /v1/messages/{id}/proofs and /v1/proofs/{id}: parse, authenticate, call the core. */
export async function proofRoutes(app: FastifyInstance, opts: { core: CoreContext; throttle: RequestThrottle }): Promise<void> {
  const { core } = opts;
  app.addHook('onRequest', authenticationHook(core.db, opts.throttle));

  app.get<{ Params: { id: string } }>(
    '/messages/:id/proofs',
    { schema: { params: idParams, response: { 200: schemaRef('ProofList'), ...errorResponses } } },
    async (request) => ({ items: await listProofs(core, principalOf(request), request.params.id) }),
  );

  // The signed evidence by default; the PDF receipt only when the client asks for it.
  app.get<{ Params: { id: string } }>('/proofs/:id', { schema: { params: idParams, response: errorResponses } }, async (request, reply) => {
    const principal = principalOf(request);
    if (wantsPdf(request.headers.accept)) {
      const { proof, pdf } = await getProofReceipt(core, principal, request.params.id);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="receipt-${proof.id}.pdf"`)
        .send(pdf);
    }
    const { proof, signed } = await getProof(core, principal, request.params.id);
    return reply
      .type('application/pkcs7-mime; smime-type=signed-data')
      .header('content-disposition', `attachment; filename="evidence-${proof.id}.p7m"`)
      .header('etag', `"${proof.sha256}"`)
      .send(signed);
  });
}

/** PDF when it is acceptable and preferred to the signed evidence (ties go to the signed evidence, the proof itself). */
function wantsPdf(accept: string | undefined): boolean {
  if (!accept) return false;
  const quality = (type: string) => {
    for (const part of accept.split(',')) {
      const [range, ...params] = part.trim().toLowerCase().split(';').map((p) => p.trim());
      if (range !== type) continue;
      const q = params.find((p) => p.startsWith('q='));
      return q ? Number(q.slice(2)) || 0 : 1;
    }
    return 0;
  };
  return quality('application/pdf') > quality('application/pkcs7-mime');
}
