import pg from 'pg';
import { projectPath } from '../paths.ts';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Logger } from '../logger.ts';

export const migrationsFolder = projectPath('migrations');

/** Arbitrary but fixed: every Sealpost process migrating one database takes this lock. */
const MIGRATION_LOCK_KEY = 0x5ea1_0057;

/**
 * Applies pending migrations under a session advisory lock, so API and worker
 * processes starting together migrate once and the others wait, then find
 * nothing to do.
 */
export async function runMigrations(url: string, log: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'sealpost-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const before = await appliedMigrationCount(client);
      await migrate(drizzle(client), { migrationsFolder });
      const after = await appliedMigrationCount(client);
      log.info({ applied: after - before, total: after }, 'database migrations up to date');
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function appliedMigrationCount(db: pg.Client | pg.Pool): Promise<number> {
  const { rows: exists } = await db.query<{ t: string | null }>(`SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`);
  if (!exists[0]?.t) return 0;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
  return rows[0]?.n ?? 0;
}

/** True when every migration shipped with this build has been applied (readiness). */
export async function migrationsApplied(pool: pg.Pool): Promise<boolean> {
  return (await appliedMigrationCount(pool)) >= readMigrationFiles({ migrationsFolder }).length;
}
