/**
 * OURS: the real Sealpost HTTP server, built exactly as `sealpost serve` builds it
 * (openRuntime + listen from src/), on the database the driver created. The
 * delivery worker is not started: only the submission path is measured.
 *
 * Environment (set by bench/lib/compare.ts): BENCH_DATABASE_URL, BENCH_DATA_DIR,
 * BENCH_LOG_LEVEL, BENCH_POOL_SIZE, and BENCH_COUNT_QUERIES=1 to count the SQL
 * statements sent (one pg `query` call is one round trip) for profiling runs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { openRuntime } from '../../src/runtime.ts';
import { listen } from '../../src/server.ts';
import { runServerChild } from './protocol.ts';

const statements = new Map<string, number>();
let counting = false;

if (process.env.BENCH_COUNT_QUERIES === '1') {
  // Wrap pg's Client#query: pool.query and drizzle's transactions both end up here.
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function countedQuery(this: unknown, ...args: unknown[]) {
    if (counting) {
      const first = args[0];
      const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
      const key = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim().slice(0, 90) : '(non-text query)';
      statements.set(key, (statements.get(key) ?? 0) + 1);
    }
    return original.apply(this, args);
  };
}

await runServerChild(async () => {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const config = loadConfig({
    DATABASE_URL: env('BENCH_DATABASE_URL'),
    DATA_DIR: env('BENCH_DATA_DIR'),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
    SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: '0',
    WORKER_ENABLED: 'false',
    // The load generator is one client with one key: a per-key rate limit would measure the limiter.
    RATE_LIMIT_PER_KEY_PER_MINUTE: '1000000000',
  });
  const log = createLogger(config.LOG_LEVEL, 'stdout');
  const runtime = await openRuntime(config, log);
  const app = await listen(runtime);
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP address');
  counting = true; // migrations and start-up queries are not the submission path
  return {
    port: address.port,
    async stop() {
      counting = false;
      await app.close();
      await runtime.close();
      log.flush();
      if (process.env.BENCH_COUNT_QUERIES !== '1') return undefined;
      return { statements: Object.fromEntries([...statements].sort((a, b) => b[1] - a[1])) };
    },
  };
});
