import type { FastifyInstance } from 'fastify';
import { cancelMessage } from '../../core/cancel-message.ts';
import type { CoreContext } from '../../core/context.ts';
import { decodeBase64Strict } from '../../core/encoding.ts';
import { getMessage, getMessageEvents, listMessagePage } from '../../core/message-queries.ts';
import { submitMessage } from '../../core/submit-message.ts';
import type { SubmissionInput } from '../../core/submission.ts';
import { requestBodyLimit, type Config } from '../../config.ts';
import { authenticationHook, principalOf } from '../authentication.ts';
import { readMultipartSubmission } from '../multipart-submission.ts';
import { schemaRef } from '../openapi.ts';
import type { RequestThrottle } from '../throttle.ts';
import type { BackPressure } from '../back-pressure.ts';
import { parseJsonBody } from '../json-body.ts';

interface JsonSubmission extends Omit<SubmissionInput, 'attachments'> {
  attachments?: Array<{ filename: string; contentType?: string; content: string }>;
}

const errorResponses = { '4xx': schemaRef('Error') };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } };

/** REST /v1/messages: parse, authenticate, call the core, map the answer. No rules live here. */
export async function messageRoutes(
  app: FastifyInstance,
  opts: { core: CoreContext; config: Config; throttle: RequestThrottle; backPressure: BackPressure },
): Promise<void> {
  const { core, config, throttle, backPressure } = opts;

  // Before authentication: a saturated database is spared even the key lookup.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.routeOptions.url === '/v1/messages') await backPressure.assertAcceptingSubmissions();
  });
  app.addHook('onRequest', authenticationHook(core.db, throttle));
  // Submissions are JSON or multipart; Fastify's default text/plain parser would hand the core a string.
  app.removeContentTypeParser('text/plain');
  // Plain JSON.parse: Fastify's prototype-poisoning scan is two regex passes over a
  // body of up to 40 MB (18% of a submission's CPU, bench/README.md). The body
  // schema refuses unknown keys at every level, so `__proto__` and `constructor`
  // never get past validation (test/integration/bad-input.test.ts). Invalid UTF-8
  // and duplicate keys are refused (json-body.ts, test/hostile).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: requestBodyLimit(config) }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.post<{ Body: JsonSubmission | undefined; Headers: { 'idempotency-key'?: string } }>(
    '/messages',
    {
      bodyLimit: requestBodyLimit(config),
      schema: {
        body: { content: { 'application/json': { schema: schemaRef('SubmitMessageRequest') } } },
        response: { 202: schemaRef('Message'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const input: SubmissionInput = request.isMultipart()
        ? await readMultipartSubmission(request, config.MAX_MESSAGE_BYTES)
        : fromJson(request.body ?? {});
      const result = await submitMessage(core, principalOf(request), input, {
        idempotencyKey: request.headers['idempotency-key'],
        via: 'rest',
      });
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).header('location', `/v1/messages/${result.message.id}`).send(result.message);
    },
  );

  app.get<{ Querystring: { status?: string; since?: string; cursor?: string; limit?: string } }>(
    '/messages',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: schemaRef('MessageStatus'),
            since: { type: 'string', maxLength: 40 },
            cursor: { type: 'string', maxLength: 200 },
            // Digits here, the range in the core: its message names the bounds.
            limit: { type: 'string', pattern: '^[0-9]{1,9}$' },
          },
        },
        response: { 200: schemaRef('MessagePage'), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, ...query } = request.query;
      return listMessagePage(core, principalOf(request), { ...query, ...(limit !== undefined && { limit: Number(limit) }) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/messages/:id',
    { schema: { params: idParams, response: { 200: schemaRef('Message'), ...errorResponses } } },
    async (request) => getMessage(core, principalOf(request), request.params.id),
  );

  app.delete<{ Params: { id: string } }>(
    '/messages/:id',
    { schema: { params: idParams, response: { 200: schemaRef('Message'), ...errorResponses } } },
    async (request) => cancelMessage(core, principalOf(request), request.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/messages/:id/events',
    { schema: { params: idParams, response: { 200: schemaRef('EventList'), ...errorResponses } } },
    async (request) => ({ items: await getMessageEvents(core, principalOf(request), request.params.id) }),
  );
}

/** JSON carries attachments as base64; everything else passes to the core as sent. */
function fromJson(body: JsonSubmission): SubmissionInput {
  const { attachments, ...rest } = body;
  return {
    ...rest,
    attachments: (attachments ?? []).map((a, i) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: decodeBase64Strict(a.content, `attachments[${i}].content`),
    })),
  };
}
