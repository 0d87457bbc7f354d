import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/client.ts';
import { copyOutBinary, parseBinaryCopy, uuidLiteral } from '../../src/db/copy-out.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** src/db/copy-out.ts: bytes read through COPY's binary format arrive exactly as stored. */
describe('copyOutBinary', () => {
  let database: TestDatabase;
  let connection: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection: a COPY that did not run on the transaction's connection would wait for it forever.
    connection = connectDatabase(database.url, 1);
    await connection.db.execute(sql`CREATE TABLE blobs (n int PRIMARY KEY, label text, content bytea)`);
  });
  afterAll(async () => {
    await connection?.close();
    await database?.drop();
  });

  /** Large buffers compared by length and digest: a deep equality over megabytes takes seconds. */
  const digest = (b: Buffer | null | undefined) => (b == null ? b : `${b.length}:${createHash('sha256').update(b).digest('hex')}`);

  const insert = (n: number, content: Buffer | null, label: string | null = null) =>
    connection.db.execute(sql`INSERT INTO blobs VALUES (${n}, ${label}, ${content})`);

  it('hands over every byte of values small and large, NULLs as null, in the order asked', async () => {
    // Sizes around the protocol's and the socket's chunking, and one well past them.
    const values = [Buffer.alloc(0), Buffer.from([0]), randomBytes(255), randomBytes(65_536 + 7), randomBytes(3 * 1024 * 1024), null];
    for (const [i, value] of values.entries()) await insert(i, value, i === 2 ? 'zwei – ünë' : null);
    const rows = await copyOutBinary(connection.db, 'SELECT n, label, content FROM blobs WHERE n < 100 ORDER BY n');
    expect(rows.map((r) => r[0]!.readInt32BE(0))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows[2]![1]!.toString('utf8')).toBe('zwei – ünë');
    expect(rows.map((r) => digest(r[2]))).toEqual(values.map(digest));
  });

  it('keeps each row intact when many large rows arrive in one answer', async () => {
    // The protocol parser reuses its buffer for what arrives next: a row kept as a view into it would be overwritten.
    const values = Array.from({ length: 40 }, () => randomBytes(100_000));
    for (const [i, value] of values.entries()) await insert(100 + i, value);
    const rows = await copyOutBinary(connection.db, 'SELECT content FROM blobs WHERE n >= 100 AND n < 200 ORDER BY n');
    expect(rows.map((r) => digest(r[0]))).toEqual(values.map(digest));
  });

  it("runs on the transaction's connection, seeing what it has not committed", async () => {
    let seen: unknown;
    const undo = new Error('roll back');
    await expect(
      connection.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO blobs VALUES (300, 'uncommitted', '\\x0102')`);
        seen = await copyOutBinary(tx, 'SELECT content FROM blobs WHERE n = 300');
        throw undo;
      }),
    ).rejects.toBe(undo);
    expect(seen).toEqual([[Buffer.from([1, 2])]]);
    expect(await copyOutBinary(connection.db, 'SELECT content FROM blobs WHERE n = 300')).toEqual([]);
  });

  it('returns no rows for a query that matches none', async () => {
    expect(await copyOutBinary(connection.db, 'SELECT content FROM blobs WHERE n = -1')).toEqual([]);
  });

  it("rejects with PostgreSQL's error, and the database stays usable", async () => {
    await expect(copyOutBinary(connection.db, 'SELECT no_such_column FROM blobs')).rejects.toThrow(/no_such_column/);
    const rows = await connection.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM blobs WHERE n = 0`);
    expect(rows.rows[0]!.n).toBe(1);
  });

  it('refuses anything but a uuid as a literal', () => {
    expect(uuidLiteral('0b5e9d0e-5f0e-4c8e-9a43-3c1d2b7d9f10')).toBe("'0b5e9d0e-5f0e-4c8e-9a43-3c1d2b7d9f10'::uuid");
    for (const bad of ["0b5e9d0e-5f0e-4c8e-9a43-3c1d2b7d9f10' OR 'x'='x", '', 'not-a-uuid', '0b5e9d0e5f0e4c8e9a433c1d2b7d9f10']) {
      expect(() => uuidLiteral(bad)).toThrow(/not a uuid/);
    }
  });

  it('refuses data that is not binary COPY, or is cut short', () => {
    expect(() => parseBinaryCopy(Buffer.from('n,label\n1,x\n'))).toThrow(/no PGCOPY signature/);
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const row = Buffer.from([0, 1, 0, 0, 0, 3, 1, 2, 3]);
    const trailer = Buffer.from([0xff, 0xff]);
    expect(parseBinaryCopy(Buffer.concat([header, row, trailer]))).toEqual([[Buffer.from([1, 2, 3])]]);
    expect(() => parseBinaryCopy(Buffer.concat([header, row]))).toThrow(/ends before its trailer/);
    expect(() => parseBinaryCopy(Buffer.concat([header, row.subarray(0, 7)]))).toThrow(/runs past the end/);
  });
});
