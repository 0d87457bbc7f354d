import { join } from 'node:path';
import type { Config } from './config.ts';
import type { CoreContext } from './core/context.ts';
import { connectDatabase, type Database } from './db/client.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.ts';
import { runMigrations } from './db/migrate.ts';
import type { Logger } from './logger.ts';
import { createContentCipher, type ContentCipher } from './security/content-cipher.ts';
import { loadMasterKey } from './security/master-key.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { readOutboxSnapshot } from './observability/outbox-snapshot.ts';
import { startLocalSink, type LocalSink } from './transport/local-sink.ts';
import { createSmtpTransport, type MailTransport } from './transport/smtp-transport.ts';
import { newWorkerId, startWorker, type JobHandlers, type Worker } from './worker/worker.ts';
import { deliverJob, type DeliveryDeps } from './worker/deliver-job.ts';
import { startRolloverCheck } from './worker/rollover-check.ts';
import { createSmimePool, type SmimePool } from './smime/index.ts';
import { createCrlStore } from './pki/crl-store.ts';
import { createRevocationNetwork } from './pki/revocation-network.ts';
import { createCmsEngine } from './smime/engine.ts';
import { readCertificateExpiry } from './observability/certificate-expiry.ts';

/**
 * The composition root: the database (given or embedded), migrations, the
 * master-key cipher, the core context. Every entry point (serve, worker, start,
 * CLI commands, tests) builds one of these and closes it.
 */
export interface Runtime {
  config: Config;
  log: Logger;
  database: Database;
  cipher: ContentCipher;
  core: CoreContext;
  /** This process's metrics registry, served at /metrics. */
  metrics: Metrics;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, log: Logger, options: { migrate?: boolean } = {}): Promise<Runtime> {
  const closers: Array<() => Promise<void>> = [];
  try {
    let url = config.DATABASE_URL;
    if (!url) {
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres({
        dataDir: join(config.DATA_DIR, 'pg'),
        port: config.EMBEDDED_PG_PORT,
        log,
      });
      closers.push(() => embedded.stop());
      url = embedded.url;
    }
    if (options.migrate ?? true) await runMigrations(url, log);
    const database = connectDatabase(url, config.DATABASE_POOL_SIZE);
    closers.push(() => database.close());
    const cipher = createContentCipher(loadMasterKey(config.SEALPOST_MASTER_KEY, config.DATA_DIR, log));
    const metrics = createMetrics({
      readOutbox: () => readOutboxSnapshot(database.db),
      readCertificateExpiry: () => readCertificateExpiry(database.db),
      log,
    });
    const crls = config.CRL_FILES ? await createCrlStore(config.CRL_FILES.split(',').map((f) => f.trim()).filter(Boolean)) : undefined;
    const revocation = createRevocationNetwork({
      crlUrls: config.CRL_URLS,
      crlFetch: config.CRL_FETCH,
      ocsp: config.OCSP,
      ocspUrl: config.OCSP_URL,
      timeoutMs: config.REVOCATION_TIMEOUT_MS,
      engine: createCmsEngine(),
    });
    const core: CoreContext = {
      db: database.db,
      cipher,
      metrics,
      ...(crls && { crls }),
      ...(revocation && { revocation }),
      limits: {
        maxMessageBytes: config.MAX_MESSAGE_BYTES,
        maxRecipients: config.MAX_RECIPIENTS,
        maxAttachments: config.MAX_ATTACHMENTS,
      },
    };
    return { config, log, database, cipher, core, metrics, close: () => closeAll(closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** The outbox worker with its transport: SMTP_URL, or the local .eml sink when unset. */
export async function startDelivery(runtime: Runtime): Promise<{ worker: Worker; close(): Promise<void> }> {
  const { config, log } = runtime;
  let sink: LocalSink | undefined;
  let url = config.SMTP_URL;
  if (!url) {
    sink = await startLocalSink({ directory: join(config.DATA_DIR, 'mail'), port: config.SMTP_SINK_PORT, log });
    url = sink.url;
  }
  const transport: MailTransport = createSmtpTransport({
    url,
    caFile: config.SMTP_TLS_CA_FILE,
    timeoutMs: config.SMTP_TIMEOUT_MS,
    maxConnections: config.WORKER_CONCURRENCY,
    log,
  });
  let smime: SmimePool | undefined;
  const rollover = startRolloverCheck(runtime.database.db, log);
  const delivery: DeliveryDeps = {
    db: runtime.database.db,
    cipher: runtime.cipher,
    crls: runtime.core.crls,
    revocation: runtime.core.revocation,
    metrics: runtime.metrics,
    smime: () => (smime ??= createSmimePool()),
    transport,
    workerId: newWorkerId(),
    messageIdDomain: config.MESSAGE_ID_DOMAIN,
    backoff: { baseSeconds: config.RETRY_BASE_DELAY_SECONDS, maxSeconds: config.RETRY_MAX_DELAY_SECONDS },
    retryWindowSeconds: config.RETRY_WINDOW_SECONDS,
  };
  const handlers: JobHandlers = {
    deliver: (job, jobLog) => deliverJob(delivery, job, jobLog),
  };
  const worker = startWorker(handlers, {
    db: runtime.database.db,
    workerId: delivery.workerId,
    databaseUrl: runtime.database.url,
    concurrency: config.WORKER_CONCURRENCY,
    pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
    leaseSeconds: config.OUTBOX_LEASE_SECONDS,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    log,
    onJobDone: (job, result, seconds) => {
      if (job.kind === 'deliver') runtime.metrics.delivery(result, seconds);
    },
  });
  return {
    worker,
    async close() {
      await rollover.stop();
      await worker.stop();
      transport.close();
      await smime?.close();
      await sink?.close();
    },
  };
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers.reverse()) {
    await close().catch(() => {});
  }
}
