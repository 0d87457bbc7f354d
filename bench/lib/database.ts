import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort, withDatabase } from '../../test/support/local.ts';

export interface DatabaseServer {
  /** Superuser (or DATABASE_URL) connection to the server's maintenance database. */
  adminUrl: string;
  /** Embedded only: adminUrl over the cluster's Unix socket instead of loopback TCP. */
  socketAdminUrl?: string;
  kind: 'embedded' | 'external';
  /** The embedded cluster's data directory (for the postmaster pid); undefined for DATABASE_URL. */
  dataDir?: string;
  version: string;
  stop(): Promise<void>;
  /**
   * Embedded and started `restartable` only: stops the cluster (fast shutdown:
   * sessions are cut, open transactions roll back), waits `downMs`, and starts it
   * again on the same data directory and port. Undefined with DATABASE_URL.
   */
  restart?(downMs: number): Promise<void>;
}

/**
 * DATABASE_URL when set, otherwise an embedded PostgreSQL under `tempDir` on a
 * free loopback port. `restartable` keeps the data directory across stops (the
 * caller removes `tempDir`) and adds `restart`.
 */
export async function startDatabaseServer(
  tempDir: string,
  options: { restartable?: boolean; settings?: Record<string, string> } = {},
): Promise<DatabaseServer> {
  const given = process.env.DATABASE_URL?.trim();
  if (given) {
    return { adminUrl: given, kind: 'external', version: await serverVersion(given), stop: async () => {} };
  }
  const dataDir = join(tempDir, 'pg');
  const start = async (port: number) =>
    startEmbeddedPostgres({
      dataDir,
      port,
      log: createLogger('error', 'stderr'),
      persistent: options.restartable === true,
      ...(options.settings && { settings: options.settings }),
    });
  const port = await freePort();
  let embedded: EmbeddedDatabase | undefined = await start(port);
  const server: DatabaseServer = {
    adminUrl: embedded.url,
    socketAdminUrl: embedded.socketUrl,
    kind: 'embedded',
    dataDir,
    version: await serverVersion(embedded.url),
    stop: async () => {
      await embedded?.stop();
      embedded = undefined;
    },
  };
  if (options.restartable) {
    server.restart = async (downMs) => {
      await embedded?.stop();
      embedded = undefined;
      await new Promise((r) => setTimeout(r, downMs));
      embedded = await start(port);
    };
  }
  return server;
}

/** A new, empty database on the server; its URL and a drop function. */
export async function createDatabase(adminUrl: string, prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  try {
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  } catch (error) {
    throw new Error(
      `could not create the benchmark database ${name} (the DATABASE_URL role needs CREATEDB): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { name, url: withDatabase(adminUrl, name), drop: async () => void (await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'sealpost-bench', connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function serverVersion(url: string): Promise<string> {
  const rows = await adminQuery<{ v: string }>(url, "SELECT current_setting('server_version') AS v");
  return rows[0]?.v ?? 'unknown';
}

