import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrationsApplied, migrationsFolder, runMigrations } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { withDatabase } from '../support/global-setup.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';

describe('migrations', () => {
  const admin = inject('adminDatabaseUrl');
  const name = `sealpost_migrate_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(admin, name);
  const query = async (target: string, sql: string) => {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await query(admin, `CREATE DATABASE ${name}`);
  });
  afterAll(async () => {
    await query(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('apply once when several processes start together, under the advisory lock', async () => {
    const pool = new pg.Pool({ connectionString: url });
    try {
      expect(await migrationsApplied(pool)).toBe(false);
      const log = createLogger('silent');
      await Promise.all([runMigrations(url, log), runMigrations(url, log), runMigrations(url, log)]);
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(rows[0].n).toBe(readMigrationFiles({ migrationsFolder }).length);
      expect(await migrationsApplied(pool)).toBe(true);
    } finally {
      await pool.end();
    }
  });
});

describe('the logbook', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    const { auth } = await t.tenant();
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission() });
    expect(res.statusCode).toBe(202);
    const pool = t.runtime.database.pool;
    await expect(pool.query(`UPDATE events SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM events`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`TRUNCATE events CASCADE`)).rejects.toThrow(/append-only/);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM events');
    expect(rows[0].n).toBe(1);
  });
});
