import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/client.ts';
import { fixedStatement } from '../../src/db/fixed-statement.ts';
import { MAX_PREPARED } from '../../src/db/prepared-client.ts';
import { tenants } from '../../src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** src/db/prepared-client.ts: each statement text is parsed once per connection, within a bound. */
describe('prepared statements', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  /** Runs `work` on one pooled connection and returns what that session has prepared. */
  const preparedAfter = async (preparedStatements: boolean, work: (db: ReturnType<typeof connectDatabase>['db']) => Promise<void>) => {
    const connection = connectDatabase(database.url, 1, { preparedStatements });
    try {
      await work(connection.db);
      const rows = await connection.db.execute<{ name: string; statement: string }>(sql`SELECT name, statement FROM pg_prepared_statements ORDER BY name`);
      return rows.rows;
    } finally {
      await connection.close();
    }
  };

  it('prepares a repeated query once, and no transaction control', async () => {
    const prepared = await preparedAfter(true, async (db) => {
      for (let i = 0; i < 3; i++) await db.select().from(tenants).where(sql`${tenants.name} = ${`t${i}`}`);
      await db.transaction(async (tx) => void (await tx.select().from(tenants)));
    });
    const selects = prepared.filter((p) => /from "tenants"/.test(p.statement));
    expect(selects).toHaveLength(2); // the filtered select and the one in the transaction, each once
    expect(selects.every((p) => /^sp_/.test(p.name))).toBe(true);
    expect(prepared.some((p) => /^\s*(begin|commit)/i.test(p.statement))).toBe(false);
  });

  it('prepares a fixedStatement once, inside a transaction too, and only when preparing is on', async () => {
    const byName = fixedStatement<{ id: string }, 'name'>((param) => sql`SELECT id FROM tenants WHERE name = ${param('name')}`);
    const twice = async (db: ReturnType<typeof connectDatabase>['db']) => {
      await byName(db, { name: 'a' });
      await db.transaction(async (tx) => void (await byName(tx, { name: 'b' })));
    };
    const prepared = await preparedAfter(true, twice);
    expect(prepared.filter((p) => /FROM tenants WHERE name/.test(p.statement)).map((p) => p.name)).toEqual([expect.stringMatching(/^sp_/)]);
    expect(await preparedAfter(false, twice)).toEqual([]);
  });

  it(`stops preparing new texts after ${MAX_PREPARED} on one connection, and still runs them`, async () => {
    let last = 0;
    const prepared = await preparedAfter(true, async (db) => {
      for (let i = 0; i < MAX_PREPARED + 20; i++) last = Number((await db.execute<{ n: number }>(sql.raw(`SELECT ${i}::int AS n`))).rows[0]!.n);
    });
    expect(last).toBe(MAX_PREPARED + 19);
    expect(prepared.filter((p) => /^sp_/.test(p.name))).toHaveLength(MAX_PREPARED);
  });

  it('prepares nothing when turned off (DATABASE_PREPARED_STATEMENTS=off)', async () => {
    const prepared = await preparedAfter(false, async (db) => {
      for (let i = 0; i < 3; i++) await db.select().from(tenants);
    });
    expect(prepared).toEqual([]);
  });
});
