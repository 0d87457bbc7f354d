import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createApiKey, createTenant } from '../../src/core/tenants.ts';
import type { Role } from '../../src/core/states.ts';
import { createLogger } from '../../src/logger.ts';
import { openRuntime, startDelivery, type Runtime } from '../../src/runtime.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import type { SmtpPeer } from './smtp-peer.ts';

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  config: Config;
  database: TestDatabase;
  /** A new tenant with one key of `role`; returns its Authorization header value. */
  tenant(options?: { role?: Role; senderDomains?: string[] }): Promise<{ tenantId: string; auth: string; token: string; keyId: string }>;
  /** Another key for an existing tenant. */
  key(tenantId: string, role: Role): Promise<string>;
  /** Starts the outbox worker delivering to the given peer (closed with the app). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/**
 * DATA_DIR of every test app in this test process: the development evidence
 * identity is generated there once, never in the checkout's ./var.
 */
let dataDir: string | undefined;
function testDataDir(): string {
  if (!dataDir) {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-test-data-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    dataDir = dir;
  }
  return dataDir;
}

/**
 * The real application on a fresh database: the same composition root as
 * production (openRuntime, buildApp, startDelivery), with test settings.
 */
export async function createTestApp(options: { env?: Record<string, string>; smtp?: SmtpPeer } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '8',
    DATA_DIR: testDataDir(),
    SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MESSAGE_ID_DOMAIN: 'sealpost.test',
    WORKER_POLL_INTERVAL_MS: '250',
    RETRY_BASE_DELAY_SECONDS: '1',
    RETRY_MAX_DELAY_SECONDS: '2',
    SHUTDOWN_GRACE_MS: '5000',
    ...(options.smtp && { SMTP_URL: options.smtp.url, SMTP_TLS_CA_FILE: options.smtp.caFile }),
    ...options.env,
  });
  const log = createLogger(config.LOG_LEVEL, 'stderr');
  const runtime = await openRuntime(config, log, { migrate: false });
  const app = await buildApp({ config, core: runtime.core, pool: runtime.database.pool, log });
  await app.ready();
  let delivery: Awaited<ReturnType<typeof startDelivery>> | undefined;

  return {
    app,
    runtime,
    config,
    database,
    async tenant({ role = 'submitter', senderDomains = [] } = {}) {
      const created = await createTenant(runtime.database.db, `tenant-${randomBytes(3).toString('hex')}`, { role, senderDomains });
      return { tenantId: created.tenantId, token: created.apiKey, keyId: created.keyId, auth: `Bearer ${created.apiKey}` };
    },
    async key(tenantId, role) {
      return `Bearer ${(await createApiKey(runtime.database.db, tenantId, role)).apiKey}`;
    },
    async startWorker() {
      if (!options.smtp) throw new Error('createTestApp({ smtp }) is needed to deliver');
      delivery ??= await startDelivery(runtime);
    },
    async stopWorker() {
      await delivery?.close();
      delivery = undefined;
    },
    async close() {
      await delivery?.close();
      await app.close();
      const pool = runtime.database.pool;
      const busy = pool.totalCount - pool.idleCount;
      await runtime.close();
      await database.drop();
      if (busy > 0) throw new Error(`${busy} database client(s) still checked out at close: a transaction or client leaked`);
    },
  };
}

/** A JSON submission with sensible defaults; override what a test is about. */
export function submission(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    from: 'payroll@example.com',
    to: ['anna.muster@example.org'],
    subject: 'Payslip November 2026',
    text: 'Dear Anna, your payslip is attached.',
    attachments: [{ filename: 'payslip-2026-11.pdf', contentType: 'application/pdf', content: pdfLike(2048).toString('base64') }],
    ...overrides,
  };
}

/** Bytes that look like a PDF (header, binary body, trailer): what payroll sends. */
export function pdfLike(size: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const tail = Buffer.from('\n%%EOF\n');
  const body = randomBytes(Math.max(0, size - head.length - tail.length));
  return Buffer.concat([head, body, tail]);
}
