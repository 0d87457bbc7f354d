import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { PreparingClient } from './prepared-client.ts';
import * as schema from './schema.ts';

/** Drizzle over a pool; `$client` is that pool, for the few statements written by hand. */
export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Repositories take either, so one use case is one transaction however many tables it touches. */
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

// bigint (int8) as number: our ids stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export function connectDatabase(url: string, poolSize: number, options: { preparedStatements?: boolean } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: 'sealpost',
    // Each statement text parsed and planned once per connection (src/db/prepared-client.ts).
    ...(options.preparedStatements !== false && { Client: PreparingClient }),
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  // Nor one checked out between two statements of a transaction: pg-pool drops its idle listener on
  // checkout, and an 'error' with no listener ends the process. The next query on it fails instead,
  // and pg-pool discards the broken client on release (bench/soak.ts restarts PostgreSQL under load).
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema });
  return {
    db,
    pool,
    url,
    close: () => pool.end(),
  };
}

/** SQLSTATEs worth one more try: serialization failure, deadlock, admin shutdown, connection loss. */
const transientSqlStates = new Set(['40001', '40P01', '57P01', '57P03', '08000', '08003', '08006']);

export function isTransientDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && transientSqlStates.has(code)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause && cause !== error) return isTransientDatabaseError(cause);
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return true;
  // node-postgres reports a connection lost under a pooled client without a code.
  return error instanceof Error && /^(Client has encountered a connection error and is not queryable|Connection terminated)/.test(error.message);
}
