import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * A pg Client that has PostgreSQL parse and plan each statement text once per
 * connection: a query without a name gets one derived from its text (SHA-1), so
 * node-postgres sends Parse only the first time and PostgreSQL keeps the
 * prepared statement for the session. The worker runs the same two dozen
 * statements for every copy; parsing and planning them again each time was
 * about 40 % of PostgreSQL's CPU in `npm run bench:drain` (docs/transport.md).
 *
 * Only SELECT, INSERT, UPDATE, DELETE and WITH statements are named (not BEGIN,
 * COMMIT, LISTEN, SET, DDL), and at most MAX_PREPARED per connection: a text
 * that varies (an IN list of another length) runs unnamed once the budget is
 * spent, so a backend's memory stays bounded. DATABASE_PREPARED_STATEMENTS=off
 * turns it off, for a pooler in transaction mode that cannot keep prepared
 * statements (PgBouncer before 1.21).
 */
export class PreparingClient extends pg.Client {
  #prepared = new Set<string>();

  // pg's query() has many overloads; this one only looks at a config object with a text and no name.
  override query(...args: unknown[]): never {
    const [config] = args;
    if (isNamable(config)) {
      const name = nameOf(config.text);
      if (this.#prepared.has(name) || this.#prepared.size < MAX_PREPARED) {
        this.#prepared.add(name);
        args[0] = { ...config, name };
      }
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/** A statement's name: from its text's SHA-1, remembered (within a bound) so a hot statement is not hashed each time. */
const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `sp_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
    if (names.size < MAX_PREPARED) names.set(text, name);
  }
  return name;
}

/** Distinct statements prepared per connection at most; the rest run unnamed. */
export const MAX_PREPARED = 300;

const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

function isNamable(config: unknown): config is { text: string; name?: undefined } {
  if (typeof config !== 'object' || config === null) return false;
  const { text, name } = config as { text?: unknown; name?: unknown };
  return typeof text === 'string' && name === undefined && PREPARABLE.test(text);
}
