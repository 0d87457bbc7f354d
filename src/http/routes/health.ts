import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { migrationsApplied } from '../../db/migrate.ts';

/** Liveness (the process answers) and readiness (database reachable, schema current). */
export async function healthRoutes(app: FastifyInstance, opts: { pool: pg.Pool }): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      const ready = await migrationsApplied(opts.pool);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'migrations pending', database: 'ok' });
    } catch {
      return reply.code(503).send({ status: 'not ready', database: 'unreachable' });
    }
  });
}
