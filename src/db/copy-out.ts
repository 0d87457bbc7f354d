import type pg from 'pg';
import type { DbOrTx } from './client.ts';

/**
 * Rows of `COPY (query) TO STDOUT (FORMAT binary)`, each field as the bytes
 * PostgreSQL sent (null for NULL), on the connection of the `db` or
 * transaction given.
 *
 * Why: node-postgres reads every value of an ordinary result as UTF-8 text, so
 * bytea can only arrive encoded (hex or base64) and be decoded again. In COPY's
 * binary format the bytes arrive as they are stored. Reading a 200 KB attachment
 * this way costs PostgreSQL about 220 µs of CPU instead of 750 (base64) and the
 * client about half (docs/transport.md#measured).
 *
 * COPY takes no parameters: `query` must be built from values that cannot
 * carry SQL (the callers check their ids with `uuidLiteral`).
 */
export async function copyOutBinary(db: DbOrTx, query: string): Promise<Array<Array<Buffer | null>>> {
  // drizzle's session holds the pg Pool (outside a transaction) or the transaction's PoolClient; both take a Submittable.
  const client = (db._.session as unknown as { client: pg.Pool | pg.PoolClient }).client as unknown as SubmittableTarget;
  const data = await new Promise<Buffer>((resolve, reject) => {
    client.query(new CopyOut(`COPY (${query}) TO STDOUT (FORMAT binary)`), (error, result) => (error ? reject(error) : resolve(result!)));
  });
  return parseBinaryCopy(data);
}

/** A uuid as an SQL literal, for the one place a statement cannot take it as a parameter; anything else is refused. */
export function uuidLiteral(value: string): string {
  if (!UUID.test(value)) throw new Error(`not a uuid: ${JSON.stringify(value).slice(0, 60)}`);
  return `'${value}'::uuid`;
}

/** How pg.Pool and pg.Client take a Submittable: the callback is handed to it, and it calls it. */
interface SubmittableTarget {
  query(submittable: CopyOut, callback: (error: Error | undefined, result?: Buffer) => void): unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A node-postgres Submittable (the interface pg-cursor and pg-query-stream use):
 * it sends one simple query and collects the CopyData messages that answer it.
 * node-postgres calls `callback` for us only through pg-pool; on a client it is
 * ours to call, once, when the server is ready again or has refused.
 */
class CopyOut {
  readonly #sql: string;
  readonly #chunks: Buffer[] = [];
  #failure: Error | undefined;
  callback: ((error: Error | undefined, result?: Buffer) => void) | undefined;

  constructor(sql: string) {
    this.#sql = sql;
  }

  submit(connection: { query(text: string): void }): void {
    connection.query(this.#sql);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    // A view into the protocol parser's buffer, which it reuses for what arrives next: copied now.
    this.#chunks.push(Buffer.from(message.chunk));
  }

  handleError(error: Error): void {
    // node-postgres forgets the active query before this call: no ReadyForQuery reaches us after it.
    this.#finish(error);
  }

  handleReadyForQuery(): void {
    this.#finish(this.#failure);
  }

  handleCommandComplete(): void {}

  // Not answers to COPY TO: noted, and reported when the server is ready again.
  handleRowDescription(): void {
    this.#failure ??= new Error('COPY answered with rows');
  }
  handleDataRow(): void {}
  handleEmptyQuery(): void {
    this.#failure ??= new Error('COPY answered with an empty query');
  }
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    this.#failure ??= new Error('COPY answered with COPY FROM');
    connection.sendCopyFail('sealpost reads only');
  }

  #finish(error: Error | undefined): void {
    const callback = this.callback;
    this.callback = undefined;
    const chunks = this.#chunks;
    callback?.(error, error ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  }
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * PostgreSQL's binary COPY format: an 11-byte signature, flags, a header
 * extension, then per row a field count and each field's length (-1: NULL) and
 * bytes, and a count of -1 at the end.
 */
export function parseBinaryCopy(data: Buffer): Array<Array<Buffer | null>> {
  const fail = (what: string): never => {
    throw new Error(`binary COPY data: ${what}`);
  };
  if (data.length < 19 || !data.subarray(0, 11).equals(SIGNATURE)) fail('no PGCOPY signature');
  let at = 15 + 4 + data.readUInt32BE(15);
  const rows: Array<Array<Buffer | null>> = [];
  for (;;) {
    if (at + 2 > data.length) fail('ends before its trailer');
    const fields = data.readInt16BE(at);
    at += 2;
    if (fields === -1) break;
    const row: Array<Buffer | null> = [];
    for (let i = 0; i < fields; i++) {
      if (at + 4 > data.length) fail('ends inside a row');
      const length = data.readInt32BE(at);
      at += 4;
      if (length === -1) {
        row.push(null);
        continue;
      }
      if (length < 0 || at + length > data.length) fail('a field runs past the end');
      row.push(data.subarray(at, at + length));
      at += length;
    }
    rows.push(row);
  }
  return rows;
}
