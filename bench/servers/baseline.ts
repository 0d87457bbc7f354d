/**
 * BASELINE: the bare route of FINDINGS.md. Fastify 5 parses the same JSON body,
 * the route decodes `attachments[0].content` from base64 and inserts the bytes
 * with `pg` into one table (bytea). No auth, no validation, no encryption, no
 * logging: the floor Sealpost's submission path is compared with.
 *
 * Environment (set by bench/lib/compare.ts): BENCH_DATABASE_URL, BENCH_POOL_SIZE.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { runServerChild } from './protocol.ts';

await runServerChild(async () => {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error('BENCH_DATABASE_URL is not set');
  const pool = new pg.Pool({ connectionString: url, max: Number(process.env.BENCH_POOL_SIZE ?? '10'), application_name: 'bench-baseline' });
  pool.on('error', () => {});
  await pool.query('CREATE TABLE IF NOT EXISTS baseline_attachments (id bigserial PRIMARY KEY, content bytea NOT NULL)');

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  app.post('/v1/messages', async (request, reply) => {
    const body = request.body as { attachments?: Array<{ content?: unknown }> } | null;
    const content = body?.attachments?.[0]?.content;
    if (typeof content !== 'string') return reply.code(400).send({ error: 'attachments[0].content is missing' });
    const { rows } = await pool.query<{ id: string }>('INSERT INTO baseline_attachments (content) VALUES ($1) RETURNING id', [
      Buffer.from(content, 'base64'),
    ]);
    return reply.code(202).send({ id: rows[0]!.id });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP address');
  return {
    port: address.port,
    async stop() {
      await app.close();
      await pool.end();
      return undefined;
    },
  };
});
