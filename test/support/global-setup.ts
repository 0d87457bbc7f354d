import type { TestProject } from 'vitest/node';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort, withDatabase } from './local.ts';

export { freePort, withDatabase };

export const TEMPLATE_DATABASE = 'sealpost_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test cluster's `postgres` database. */
    adminDatabaseUrl: string;
  }
}

/**
 * One PostgreSQL for the whole run: DATABASE_URL when set (CI with a service, or
 * testcontainers), otherwise an embedded one in a temporary directory. The schema
 * is migrated once into a template database that each test file clones.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('error', 'stderr');
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!adminUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-test-pg-'));
    chmodSync(dir, 0o755); // the cluster runs as the unprivileged postgres user
    const embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), log, persistent: false });
    adminUrl = embedded.url;
    stop = async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  await runMigrations(withDatabase(adminUrl, TEMPLATE_DATABASE), log);
  project.provide('adminDatabaseUrl', adminUrl);
  return stop;
}


