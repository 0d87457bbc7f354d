import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client.ts';

const dialect = new PgDialect();

/**
 * A statement whose SQL text is built once, when its module loads: each run
 * binds only its parameters (named placeholders, filled from `values`) and runs
 * on the connection of the `db` or transaction it is given. Drizzle otherwise
 * builds a statement's text again at every call (its query builder takes tens
 * of µs a statement, and the worker's deliver path runs its statements for every
 * copy); drizzle's own `.prepare()` builds once too, but is bound to the
 * database it was built on, so cannot run inside a transaction. One constant
 * text is also one plan PostgreSQL keeps per connection
 * (src/db/prepared-client.ts). Rows come as node-postgres parses them, except
 * timestamps, which drizzle hands over as text.
 */
export function fixedStatement<Row, Name extends string = never>(
  build: (param: (name: Name) => Placeholder<Name>) => SQL,
): (db: DbOrTx, values: Record<Name, unknown>) => Promise<Row[]> {
  const query = dialect.sqlToQuery(build((name) => sql.placeholder(name)));
  return async (db, values) => {
    const prepared = db._.session.prepareQuery<{ execute: { rows: Row[] }; all: unknown; values: unknown }>(query, undefined, undefined, false);
    return (await prepared.execute(values)).rows;
  };
}
