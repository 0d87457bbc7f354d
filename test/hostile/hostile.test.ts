import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { credentialsOf } from '../support/soap.ts';
import { hostileCases, portalTokenCases, type CaseContext, type Door, type HostileCase } from './cases.ts';
import { send } from './wire.ts';

/**
 * Runs the hostile-input corpus (cases.ts) against a real server listening on
 * loopback, each row on each door it names. After every row: the expected 4xx
 * (SOAP: a Client fault) with its code and never a server error, the server
 * still answers /healthz, and not one row was written unless the row is one of
 * the few that must be accepted, which then wrote exactly its message.
 */
const settings = {
  MAX_MESSAGE_BYTES: String(1024 * 1024),
  MAX_RECIPIENTS: '100',
  AUTH_FAILURE_LIMIT: '5',
  HTTP_HEADERS_TIMEOUT_MS: '1000',
  HTTP_REQUEST_TIMEOUT_MS: '3000',
  HTTP_IDLE_TIMEOUT_MS: '10000',
};

const rows = [...hostileCases, ...portalTokenCases].flatMap((c) =>
  (c.door === 'both' ? (['rest', 'soap'] as const) : [c.door]).map((door) => ({ ...c, door, label: `${door}: ${c.name}` })),
);

describe('hostile input on both doors', () => {
  let t: TestApp;
  let server: FastifyInstance;
  let ctx: CaseContext;

  beforeAll(async () => {
    t = await createTestApp({ env: settings });
    server = t.app;
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const other = await t.tenant();
    const foreign = await send(port, { path: '/v1/messages', headers: { authorization: other.auth, 'content-type': 'application/json' }, body: JSON.stringify(submission()) });
    expect(foreign.status, foreign.body).toBe(202);
    ctx = {
      port,
      auth: tenant.auth,
      soap: credentialsOf(tenant.token),
      foreignMessageId: (JSON.parse(foreign.body) as { id: string }).id,
      maxRecipients: Number(settings.MAX_RECIPIENTS),
      authFailureLimit: Number(settings.AUTH_FAILURE_LIMIT),
      headersTimeoutMs: Number(settings.HTTP_HEADERS_TIMEOUT_MS),
      requestTimeoutMs: Number(settings.HTTP_REQUEST_TIMEOUT_MS),
    };
  });
  afterAll(async () => t?.close());

  async function rowCounts() {
    const { rows: [counts] } = await t.runtime.database.pool.query(
      `SELECT (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM recipients)::int AS recipients,
              (SELECT count(*) FROM attachments)::int AS attachments, (SELECT count(*) FROM outbox)::int AS outbox,
              (SELECT count(*) FROM events)::int AS events`,
    );
    return counts as { messages: number; recipients: number; attachments: number; outbox: number; events: number };
  }

  it('has at least 40 cases, each named once', () => {
    const names = hostileCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  it.each(rows)('$label', async (row: HostileCase & { door: Door }) => {
    const expected = row.expect[row.door]!;
    const before = await rowCounts();
    const outcome = await row.send(row.door, ctx);
    const status = outcome.status ?? 0;
    const code = expected.code === 'accepted' && status < 300 ? 'accepted' : outcome.status === undefined ? 'connection closed' : outcome.code;
    expect({ status, code }, outcome.body.slice(0, 500)).toEqual(expected);
    if (row.door === 'soap' && status === 500) expect(outcome.faultcode).toBe('soap:Client');
    if (row.door === 'rest') expect(status).toBeLessThan(500);
    await row.check?.(outcome, row.door, ctx);

    const health = await send(ctx.port, { method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
    const stored = row.stores ?? { messages: 0, recipients: 0, attachments: 0 };
    const after = await rowCounts();
    expect(after).toEqual({
      messages: before.messages + stored.messages,
      recipients: before.recipients + stored.recipients,
      attachments: before.attachments + stored.attachments,
      outbox: after.outbox,
      events: before.events + stored.messages,
    });
    // A refused request queues nothing; an accepted one at least one delivery per recipient.
    if (stored.recipients === 0) expect(after.outbox).toBe(before.outbox);
    else expect(after.outbox).toBeGreaterThanOrEqual(before.outbox + stored.recipients);
  });
});
