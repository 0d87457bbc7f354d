import type { TestProject } from 'vitest/node';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { freePort, withDatabase } from './local.ts';

export { freePort, withDatabase };

export const TEMPLATE_DATABASE = 'sealpost_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test cluster's `postgres` database. */
    adminDatabaseUrl: string;
  }
}

interface TestCluster {
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * One PostgreSQL for the whole run: DATABASE_URL when set (CI with a service);
 * else a container through testcontainers when a Docker engine is reachable;
 * else an embedded one in a temporary directory. The choice and its reason are
 * printed. The schema is migrated once into a template database that each test
 * file clones.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('error', 'stderr');
  const cluster = await startCluster(log);
  const adminUrl = cluster.adminUrl;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  await runMigrations(withDatabase(adminUrl, TEMPLATE_DATABASE), log);
  project.provide('adminDatabaseUrl', adminUrl);
  return () => cluster.stop();
}

async function startCluster(log: Logger): Promise<TestCluster> {
  if (process.env.DATABASE_URL) {
    say('DATABASE_URL is set: using that server');
    return { adminUrl: process.env.DATABASE_URL, stop: async () => {} };
  }
  const engine = dockerEngine();
  if (engine) {
    try {
      // Imported only here, so a machine without Docker never loads testcontainers.
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:17-alpine').start();
      say(`${engine}: using PostgreSQL 17 in a container (testcontainers)`);
      return { adminUrl: container.getConnectionUri(), stop: async () => void (await container.stop()) };
    } catch (error) {
      say(`${engine}, but no container could be started (${(error as Error).message.split('\n')[0]}): falling back to embedded PostgreSQL`);
    }
  } else {
    say('no Docker engine (DOCKER_HOST unset, no /var/run/docker.sock): using embedded PostgreSQL');
  }
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-test-pg-'));
  chmodSync(dir, 0o755); // the cluster runs as the unprivileged postgres user
  const embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), log, persistent: false });
  return {
    adminUrl: embedded.url,
    stop: async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why we think a Docker engine is reachable, or undefined. */
function dockerEngine(): string | undefined {
  if (process.env.DOCKER_HOST) return `DOCKER_HOST is set (${process.env.DOCKER_HOST})`;
  if (existsSync('/var/run/docker.sock')) return '/var/run/docker.sock exists';
  return undefined;
}

function say(line: string): void {
  console.log(`test database: ${line}`);
}
