import { join } from 'node:path';
import type { Config } from './config.ts';
import type { CoreContext } from './core/context.ts';
import { createSettingsCache } from './core/settings-cache.ts';
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
import { createMxResolver } from './transport/mx-resolver.ts';
import { defaultTransportPolicy } from './core/transport-policies.ts';
import { newWorkerId, startWorker, type JobHandlers, type Worker } from './worker/worker.ts';
import { deliverJob, type DeliveryDeps } from './worker/deliver-job.ts';
import { identityRolloverJob, startRolloverCheck, type RolloverJobDeps } from './worker/rollover-check.ts';
import { ensureSingletonJob } from './outbox/singleton-job.ts';
import { evidenceJob, type EvidenceDeps } from './evidence/evidence-job.ts';
import { receiptMailJob } from './evidence/receipt-mail.ts';
import { loadServiceEvidenceIdentity } from './evidence/service-identity.ts';
import type { EvidenceIdentity } from './core/evidence-identity.ts';
import { portalAccountPolicy, portalDeliverySettings } from './portal/links.ts';
import { codeJob } from './portal/code-job.ts';
import { expiryJob } from './portal/expiry-job.ts';
import { createSmimePool, type SmimePool } from './smime/index.ts';
import { createCrlStore } from './pki/crl-store.ts';
import { createRevocationNetwork } from './pki/revocation-network.ts';
import { createCmsEngine } from './smime/engine.ts';
import { readCertificateExpiry } from './observability/certificate-expiry.ts';
import { webhookJob, type WebhookDeps } from './webhooks/webhook-job.ts';
import { retentionSweepJob, scheduleRetentionSweep, type RetentionSettings } from './core/retention.ts';

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
    const database = connectDatabase(url, config.DATABASE_POOL_SIZE, { preparedStatements: config.DATABASE_PREPARED_STATEMENTS === 'on' });
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
  if (!url && config.DELIVERY_ROUTE !== 'mx') {
    sink = await startLocalSink({ directory: join(config.DATA_DIR, 'mail'), port: config.SMTP_SINK_PORT, log });
    url = sink.url;
  }
  const transport: MailTransport = createTransport(config, log, url, sink !== undefined);
  let smime: SmimePool | undefined;
  const rollover = startRolloverCheck(runtime.database.db, log, undefined, config.ROLLOVER_DAYS);
  const rolloverDeps: RolloverJobDeps = {
    core: runtime.core,
    hookPath: config.ROLLOVER_CA_HOOK,
    hookTimeoutMs: config.ROLLOVER_HOOK_TIMEOUT_MS,
    withinDays: config.ROLLOVER_DAYS,
    onOutcome: (outcome) => runtime.metrics.identityRollover(outcome),
  };
  if (rolloverDeps.hookPath) await ensureSingletonJob(runtime.database.db, 'identity_rollover');
  // What every copy reads and administrators rarely change, kept until the settings version moves.
  const settings = createSettingsCache();
  const delivery: DeliveryDeps = {
    db: runtime.database.db,
    cipher: runtime.cipher,
    crls: runtime.core.crls,
    revocation: runtime.core.revocation,
    settings,
    metrics: runtime.metrics,
    smime: () => (smime ??= createSmimePool()),
    transport,
    workerId: newWorkerId(),
    messageIdDomain: config.MESSAGE_ID_DOMAIN,
    backoff: { baseSeconds: config.RETRY_BASE_DELAY_SECONDS, maxSeconds: config.RETRY_MAX_DELAY_SECONDS },
    retryWindowSeconds: config.RETRY_WINDOW_SECONDS,
    delayWarningSeconds: config.DELIVERY_DELAY_WARNING_SECONDS,
    portal: portalDeliverySettings(config),
    onSettled: (settled) => runtime.metrics.deliverySettled(settled),
  };
  let serviceEvidenceIdentity: Promise<EvidenceIdentity> | undefined;
  const evidenceDeps: EvidenceDeps = {
    db: runtime.database.db,
    cipher: runtime.cipher,
    pki: { ...runtime.core, settings },
    messageIdDomain: config.MESSAGE_ID_DOMAIN,
    policyId: config.EVIDENCE_POLICY_ID,
    timeStamp: config.EVIDENCE_TSA_URL
      ? { url: config.EVIDENCE_TSA_URL, timeoutMs: config.EVIDENCE_TSA_TIMEOUT_MS, attempts: config.EVIDENCE_TSA_ATTEMPTS, backoff: delivery.backoff }
      : undefined,
    mailReceipts: config.EVIDENCE_MAIL_RECEIPTS,
    // Loaded on first use; a failure (unreadable file) is retried by the next job, not remembered.
    serviceIdentity: () =>
      (serviceEvidenceIdentity ??= loadServiceEvidenceIdentity(
        { certFile: config.EVIDENCE_CERT_FILE, keyFile: config.EVIDENCE_KEY_FILE, dataDir: config.DATA_DIR },
        log,
      ).catch((error: unknown) => {
        serviceEvidenceIdentity = undefined;
        throw error;
      })),
  };
  const webhookDeps: WebhookDeps = {
    db: runtime.database.db,
    cipher: runtime.cipher,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    backoff: delivery.backoff,
    retryWindowSeconds: config.WEBHOOK_RETRY_WINDOW_SECONDS,
  };
  const retention: RetentionSettings = {
    days: config.RETENTION_DAYS,
    batchSize: config.RETENTION_BATCH_SIZE,
    intervalSeconds: config.RETENTION_SWEEP_INTERVAL_SECONDS,
  };
  if (retention.days !== undefined) await scheduleRetentionSweep(runtime.database.db);
  const handlers: JobHandlers = {
    deliver: (job, jobLog) => deliverJob(delivery, job, jobLog),
    evidence: (job, jobLog) => evidenceJob(evidenceDeps, job, jobLog),
    receipt_mail: (job, jobLog) => receiptMailJob(delivery, job, jobLog),
    webhook: (job, jobLog) => webhookJob(webhookDeps, job, jobLog),
    retention: (job, jobLog) => retentionSweepJob(runtime.database.db, retention, job, jobLog),
    identity_rollover: (job, jobLog) => identityRolloverJob(rolloverDeps, job, jobLog),
    portal_code: (job, jobLog) => codeJob({ ...delivery, accounts: portalAccountPolicy(config) }, job, jobLog),
    registered_expiry: (job, jobLog) => expiryJob({ db: delivery.db, metrics: runtime.metrics }, job, jobLog),
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
    settings,
    onJobDone: (job, result, seconds) => {
      if (job.kind === 'deliver') runtime.metrics.delivery(result, seconds);
      if (job.kind === 'evidence') runtime.metrics.evidenceJob(result);
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

/** The SMTP transport: SMTP_URL (or the sink) as relay, else direct MX delivery; policies per recipient domain (docs/transport.md). */
function createTransport(config: Config, log: Logger, url: string | undefined, sink: boolean): MailTransport {
  return createSmtpTransport({
    url,
    sink,
    caFile: config.SMTP_TLS_CA_FILE,
    ...(!url && {
      mx: {
        resolver: createMxResolver({ servers: config.DNS_SERVERS?.split(',').map((s) => s.trim()), timeoutMs: config.SMTP_TIMEOUT_MS }),
        port: config.MX_PORT,
      },
    }),
    defaultPolicy: defaultTransportPolicy(config.TRANSPORT_POLICY, config.TRANSPORT_CLIENT_CERT_FILE, config.TRANSPORT_CLIENT_KEY_FILE),
    timeoutMs: config.SMTP_TIMEOUT_MS,
    maxConnections: config.SMTP_MAX_CONNECTIONS,
    maxConnectionsPerDestination: config.SMTP_MAX_CONNECTIONS_PER_DESTINATION,
    log,
  });
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers.reverse()) {
    await close().catch(() => {});
  }
}
