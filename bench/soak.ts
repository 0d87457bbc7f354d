/**
 * `npm run soak`: a payroll run under the faults an operator sees. N payslips
 * (a 200 KiB PDF-like attachment each), half over REST and half over SOAP, from
 * several tenants, into real `sealpost serve` and `sealpost worker` processes on
 * one PostgreSQL, delivered over SMTP (STARTTLS) to a peer in this process that
 * keeps each copy's Message-ID and a digest. Meanwhile workers are killed with
 * SIGKILL and restarted, the SMTP peer goes away and comes back, PostgreSQL is
 * restarted and an API is killed while submissions come in. At the end every
 * acknowledged submission is reconciled against what the peer received, and one
 * table is printed: acknowledged, delivered, lost (must be 0), duplicates (at most
 * one per worker kill), time to drain, peak RSS per process, msg/s.
 *
 * Settings (environment, printed at start): SOAK_MESSAGES (10000),
 * SOAK_ATTACHMENT_KB (200), SOAK_TENANTS (3), SOAK_APIS (2), SOAK_WORKERS (3),
 * SOAK_WORKER_CONCURRENCY (1), SOAK_CONNECTIONS (8), SOAK_WORKER_KILLS (20), SOAK_API_KILLS (1),
 * SOAK_SMTP_OUTAGE_SECONDS (60), SOAK_POSTGRES_RESTART (1), SOAK_POSTGRES_DOWN_SECONDS (1),
 * SOAK_SMTP_TLS (1), SOAK_LEASE_SECONDS (5), SOAK_RETRY_BASE_SECONDS (1),
 * SOAK_RETRY_MAX_SECONDS (5), SOAK_BUDGET_SECONDS (1800), SOAK_KEEP_LOGS (0). DATABASE_URL uses that
 * server instead of an embedded one (its role needs CREATEDB; PostgreSQL is then
 * not restarted). Loopback only; every child is stopped, and the temp directory
 * removed, whatever happens. Exits 1 when a message is lost, duplicates exceed one
 * per worker kill and in-flight slot (SOAK_WORKER_CONCURRENCY), a duplicate is not
 * flagged in the logbook, or the run could not finish (see `failures`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/local.ts';
import { killAllChildrenNow } from './lib/children.ts';
import { adminQuery, createDatabase, startDatabaseServer, type DatabaseServer } from './lib/database.ts';
import { attachmentDigest, startDigestSmtpPeer, type DigestSmtpPeer } from './lib/digest-smtp-peer.ts';
import { gitInfo, loadSnapshot, machineInfo, processMemory } from './lib/machine.ts';
import { submitPayslip, type Payslip, type PayrollTenant } from './lib/payroll-submitter.ts';
import { pdfLike } from './lib/payload.ts';
import { processSlot, type ProcessSlot } from './lib/process-slot.ts';
import { writeResultFile } from './lib/results.ts';
import { runSealpost, waitReady } from './lib/sealpost-cli.ts';
import { flagSetting, intSetting } from './lib/settings.ts';
import { startFaults, type FaultEvent } from './lib/soak-faults.ts';
import { markdownTable, readLogbook, reconcile, type AcknowledgedCopy } from './lib/soak-report.ts';

export interface SoakSettings {
  messages: number;
  attachmentKb: number;
  tenants: number;
  apis: number;
  workers: number;
  /** WORKER_CONCURRENCY of each worker: a SIGKILL can repeat at most this many hand-overs. */
  workerConcurrency: number;
  connections: number;
  workerKills: number;
  apiKills: number;
  smtpOutageSeconds: number;
  postgresRestart: boolean;
  postgresDownSeconds: number;
  smtpTls: boolean;
  leaseSeconds: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  budgetSeconds: number;
  /** Keep the processes' logs in a directory under the system temp dir (its path is printed). */
  keepLogs: boolean;
  /** Write bench/results/soak-*.json (the test run does not). */
  writeResults: boolean;
}

export function soakSettingsFromEnv(env: Record<string, string | undefined> = process.env): SoakSettings {
  const int = (name: string, fallback: number, min = 1) => intSetting(name, fallback, { min, env });
  return {
    messages: int('SOAK_MESSAGES', 10_000),
    attachmentKb: int('SOAK_ATTACHMENT_KB', 200),
    tenants: int('SOAK_TENANTS', 3),
    apis: int('SOAK_APIS', 2),
    workers: int('SOAK_WORKERS', 3),
    workerConcurrency: int('SOAK_WORKER_CONCURRENCY', 1),
    connections: int('SOAK_CONNECTIONS', 8),
    workerKills: int('SOAK_WORKER_KILLS', 20, 0),
    apiKills: int('SOAK_API_KILLS', 1, 0),
    smtpOutageSeconds: int('SOAK_SMTP_OUTAGE_SECONDS', 60, 0),
    postgresRestart: flagSetting('SOAK_POSTGRES_RESTART', true, { env }),
    postgresDownSeconds: int('SOAK_POSTGRES_DOWN_SECONDS', 1, 0),
    smtpTls: flagSetting('SOAK_SMTP_TLS', true, { env }),
    leaseSeconds: int('SOAK_LEASE_SECONDS', 5),
    retryBaseSeconds: int('SOAK_RETRY_BASE_SECONDS', 1),
    retryMaxSeconds: int('SOAK_RETRY_MAX_SECONDS', 5),
    budgetSeconds: int('SOAK_BUDGET_SECONDS', 1800),
    keepLogs: flagSetting('SOAK_KEEP_LOGS', false, { env }),
    writeResults: true,
  };
}

export interface SoakResult {
  ok: boolean;
  /** Why the run failed, one line each; empty when ok. */
  failures: string[];
  /** The printed table (Markdown). */
  table: string;
  acknowledged: number;
  delivered: number;
  lost: number;
  duplicates: number;
  workerKills: number;
  faults: FaultEvent[];
  resultFile?: string;
  [key: string]: unknown;
}

const MESSAGE_ID_DOMAIN = 'soak.sealpost.test';
const ATTACHMENT_VARIANTS = 8;

/** Runs the soak with `settings`; resolves with the reconciliation whatever happened, children stopped and temp files gone. */
export async function runSoak(settings: SoakSettings, log: (line: string) => void = console.log): Promise<SoakResult> {
  const startedAt = new Date();
  const deadline = Date.now() + settings.budgetSeconds * 1000;
  const tempDir = mkdtempSync(join(tmpdir(), 'sealpost-soak-'));
  chmodSync(tempDir, 0o755); // the embedded cluster runs as the unprivileged postgres user
  const onExit = () => {
    killAllChildrenNow();
    rmSync(tempDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  const slots: ProcessSlot[] = [];
  let database: DatabaseServer | undefined;
  let peer: DigestSmtpPeer | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let stopFaults = () => {};
  let dropDatabase: (() => Promise<void>) | undefined;
  try {
    const loadAtStart = loadSnapshot();
    peer = await startDigestSmtpPeer({ dir: tempDir, tls: settings.smtpTls });
    database = await startDatabaseServer(tempDir, { restartable: settings.postgresRestart });
    const db = await createDatabase(database.adminUrl, 'sealpost_soak');
    if (database.kind === 'external') dropDatabase = db.drop;
    const postgresRestart = settings.postgresRestart && database.restart !== undefined;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: join(tempDir, 'var'),
      LOG_LEVEL: 'warn',
      SMTP_URL: peer.url,
      ...(peer.caFile && { SMTP_TLS_CA_FILE: peer.caFile }),
      MESSAGE_ID_DOMAIN,
      RATE_LIMIT_PER_KEY_PER_MINUTE: '10000000',
      OUTBOX_LEASE_SECONDS: String(settings.leaseSeconds),
      RETRY_BASE_DELAY_SECONDS: String(settings.retryBaseSeconds),
      RETRY_MAX_DELAY_SECONDS: String(settings.retryMaxSeconds),
      WORKER_CONCURRENCY: String(settings.workerConcurrency),
      WORKER_POLL_INTERVAL_MS: '500',
      SHUTDOWN_GRACE_MS: '5000',
    };
    await runSealpost(['migrate'], env);
    const tenants = await Promise.all(
      Array.from({ length: settings.tenants }, async (_, t): Promise<PayrollTenant> => {
        const senderDomain = `employer${t + 1}.example`;
        const out = await runSealpost(['tenant', 'create', `employer-${t + 1}`, '--sender-domain', senderDomain, '--json'], env);
        return { name: `employer-${t + 1}`, senderDomain, apiKey: (JSON.parse(out) as { apiKey: string }).apiKey };
      }),
    );

    const apis: Array<{ slot: ProcessSlot; port: number }> = [];
    for (let i = 0; i < settings.apis; i++) {
      const port = await freePort();
      const slot = processSlot({ name: `api${i}`, command: ['serve'], env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, logFile: join(tempDir, `api${i}.log`) });
      apis.push({ slot, port });
      slots.push(slot);
    }
    const workers = Array.from({ length: settings.workers }, (_, i) =>
      processSlot({ name: `worker${i}`, command: ['worker'], env, logFile: join(tempDir, `worker${i}.log`) }),
    );
    slots.push(...workers);
    slots.forEach((s) => s.start());
    await Promise.all(apis.map((a) => waitReady(a.port, 60_000, () => a.slot.alive)));
    sampler = setInterval(() => slots.forEach((s) => s.sampleMemory()), 1_000);

    log(
      `soak: ${settings.messages} payslips (${settings.attachmentKb} KiB PDF-like attachment each; half REST, half SOAP) from ${settings.tenants} tenants, ` +
        `${settings.connections} connections → ${settings.apis} × sealpost serve; ${settings.workers} × sealpost worker (WORKER_CONCURRENCY=${settings.workerConcurrency}) → SMTP${settings.smtpTls ? ' with STARTTLS' : ''} peer; ` +
        `PostgreSQL ${database.version} (${database.kind})`,
    );
    log(
      `faults: ${settings.workerKills} worker SIGKILLs, ${settings.apiKills} API SIGKILLs, SMTP peer down ${settings.smtpOutageSeconds} s, ` +
        (postgresRestart
          ? `PostgreSQL restarted once (down ${settings.postgresDownSeconds} s)`
          : settings.postgresRestart
            ? 'PostgreSQL restart SKIPPED: DATABASE_URL names a server this run cannot restart'
            : 'no PostgreSQL restart (SOAK_POSTGRES_RESTART=0)'),
    );
    log(
      `worker settings: OUTBOX_LEASE_SECONDS=${settings.leaseSeconds} RETRY_BASE_DELAY_SECONDS=${settings.retryBaseSeconds} ` +
        `RETRY_MAX_DELAY_SECONDS=${settings.retryMaxSeconds}; budget ${settings.budgetSeconds} s; load at start: ${loadAtStart.uptime}`,
    );

    // The run: submitters and faults side by side.
    const attachments = Array.from({ length: ATTACHMENT_VARIANTS }, () => {
      const bytes = pdfLike(settings.attachmentKb * 1024);
      return { base64: bytes.toString('base64'), digest: attachmentDigest(bytes) };
    });
    const runId = randomBytes(4).toString('hex');
    const payslip = (index: number): Payslip => ({
      index,
      tenant: tenants[index % tenants.length]!,
      door: index % 2 === 0 ? 'rest' : 'soap',
      soapAuth: Math.floor(index / 2) % 2 === 0 ? 'usernameToken' : 'basic',
      idempotencyKey: `soak-${runId}-${index}`,
      to: `employee${index}@example.org`,
      attachmentBase64: attachments[index % ATTACHMENT_VARIANTS]!.base64,
    });
    const acknowledged = new Map<string, AcknowledgedCopy>();
    const acks = { submissions: 0, rest: 0, soap: 0, replayed: 0, afterRetry: 0 };
    const retries = new Map<string, number>();
    const refused: string[] = [];
    const gaveUp: string[] = [];
    let submitting = true;
    const t0 = performance.now();
    const t0Epoch = Date.now();
    const elapsed = () => Math.round((performance.now() - t0) / 100) / 10;
    const faults = startFaults(
      settings,
      {
        workers,
        apis,
        peer,
        database,
        databaseUrl: db.url,
        messages: settings.messages,
        progress: () => ({ acknowledged: acks.submissions, delivered: peer!.copies.size, submitting }),
        t0,
        deadline,
      },
      (line) => log(`  ${line}`),
    );
    stopFaults = faults.stop;
    const progress = setInterval(
      () => log(`  ${elapsed()} s: acknowledged ${acks.submissions}/${settings.messages}, delivered ${peer!.copies.size}, peer ${peer!.isUp ? 'up' : 'DOWN'}`),
      Math.max(5, Math.round(settings.messages / 1000)) * 1000,
    );

    let next = 0;
    await Promise.all(
      Array.from({ length: settings.connections }, async () => {
        for (let i = next++; i < settings.messages && Date.now() < deadline; i = next++) {
          const p = payslip(i);
          const outcome = await submitPayslip(p, {
            ports: () => apis.map((a) => a.port),
            maxAttempts: 100,
            deadline,
            requestTimeoutMs: 30_000,
            onRetry: (reason) => retries.set(reason, (retries.get(reason) ?? 0) + 1),
          });
          if (outcome.kind === 'acknowledged') {
            acks.submissions++;
            acks[p.door]++;
            if (outcome.replayed) acks.replayed++;
            if (outcome.attempts > 1) acks.afterRetry++;
            for (const id of outcome.recipientIds) acknowledged.set(id, { index: i, door: p.door, attachmentDigest: attachments[i % ATTACHMENT_VARIANTS]!.digest });
          } else if (outcome.kind === 'refused') {
            refused.push(`#${i} (${p.door}): ${outcome.reason}`);
          } else {
            gaveUp.push(`#${i} (${p.door}) after ${outcome.attempts} attempts: ${outcome.reason}`);
          }
        }
      }),
    );
    submitting = false;
    const submitSeconds = (performance.now() - t0) / 1000;
    log(`  ${elapsed()} s: submissions done (${acks.submissions} acknowledged); waiting for every copy and every fault`);

    // Drained: every acknowledged copy arrived, every planned fault happened, and no delivery job is left (a
    // job a killed worker held comes back after its lease and may send a duplicate late).
    const reserveMs = Math.min(30_000, settings.budgetSeconds * 100);
    const delivered = () => [...acknowledged.keys()].filter((id) => peer!.copies.has(messageIdOf(id))).length;
    let faultsDone = false;
    void faults.done.then(() => (faultsDone = true));
    let jobsLeft = -1;
    while (Date.now() < deadline - reserveMs) {
      if (faultsDone && delivered() === acknowledged.size) {
        jobsLeft = await adminQuery<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM outbox WHERE kind = 'deliver'`).then(
          (rows) => rows[0]?.n ?? -1,
          () => -1,
        );
        if (jobsLeft === 0) break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    clearInterval(progress);
    stopFaults();
    log(`  ${elapsed()} s: ${jobsLeft === 0 ? 'drained' : 'NOT drained within the budget'}`);

    // Reconcile: every acknowledged recipient against the peer, duplicates against the logbook.
    const r = reconcile(acknowledged, peer.copies, messageIdOf);
    const logbook = await readLogbook(db.url, r.duplicated.map(recipientIdOf), t0Epoch);
    const unflaggedDuplicates = r.duplicated.filter((m) => !logbook.flaggedRecipientIds.has(recipientIdOf(m)));
    const duplicateTrails = r.duplicated.slice(0, 20).map((messageId) => ({
      messageId,
      arrivals: peer!.copies.get(messageId)!.map((c) => round((c.at - t0) / 1000)),
      logbook: logbook.trails[recipientIdOf(messageId)] ?? [],
    }));
    const drainSeconds = r.lastFirstArrival === undefined ? NaN : (r.lastFirstArrival - t0) / 1000;

    slots.forEach((s) => s.sampleMemory());
    clearInterval(sampler);
    await Promise.all(slots.map((s) => s.stop(10_000)));
    const unexpectedExits = slots.flatMap((s) => s.unexpectedExits);
    const injected = (fault: FaultEvent['fault']) => faults.events.filter((e) => e.fault === fault && !e.error).length;
    const workerKills = injected('worker_kill');
    const planned: Record<FaultEvent['fault'], number> = {
      worker_kill: settings.workerKills,
      api_kill: settings.apiKills,
      smtp_outage: settings.smtpOutageSeconds > 0 ? 1 : 0,
      postgres_restart: postgresRestart ? 1 : 0,
    };
    const allowedDuplicates = workerKills * settings.workerConcurrency;

    const failures: string[] = [];
    if (r.lost > 0) failures.push(`${r.lost} acknowledged copies never reached the peer`);
    if (r.duplicates > allowedDuplicates) {
      failures.push(`${r.duplicates} duplicates for ${workerKills} worker kills at WORKER_CONCURRENCY=${settings.workerConcurrency} (at most ${allowedDuplicates})`);
    }
    if (unflaggedDuplicates.length > 0) failures.push(`${unflaggedDuplicates.length} duplicates the logbook does not flag as possible duplicates`);
    if (r.corrupted > 0) failures.push(`${r.corrupted} copies arrived with an attachment that differs from the one submitted`);
    if (settings.smtpTls && r.plaintext > 0) failures.push(`${r.plaintext} copies were handed over without TLS although the peer offered STARTTLS`);
    if (refused.length > 0) failures.push(`${refused.length} submissions refused: ${refused.slice(0, 3).join('; ')}`);
    if (gaveUp.length > 0) failures.push(`${gaveUp.length} submissions never acknowledged: ${gaveUp.slice(0, 3).join('; ')}`);
    if (jobsLeft !== 0) failures.push(`not drained within the budget of ${settings.budgetSeconds} s (${jobsLeft} delivery jobs left)`);
    for (const fault of Object.keys(planned) as Array<FaultEvent['fault']>) {
      if (injected(fault) < planned[fault]) failures.push(`${fault}: ${injected(fault)} of ${planned[fault]} injected`);
    }
    for (const event of faults.events.filter((e) => e.error)) failures.push(`${event.fault} at ${event.at} s failed: ${event.error}`);
    for (const exit of unexpectedExits) failures.push(`${exit.slot} (pid ${exit.pid}) exited unasked with ${exit.code ?? exit.signal}:\n${exit.logTail}`);

    const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;
    const driverPeak = processMemory(process.pid)?.peakBytes ?? 0;
    const tls = settings.smtpTls ? `, all over STARTTLS: ${r.plaintext === 0 ? 'yes' : `no (${r.plaintext} in plain text)`}` : '';
    const content = r.withContent > 0 ? ` (intact: ${r.corrupted === 0 ? 'yes' : `no, ${r.corrupted} differ`})` : '';
    const table = markdownTable([
      ['acknowledged', `${acknowledged.size} (${acks.rest} REST, ${acks.soap} SOAP; ${acks.afterRetry} after a retry, ${acks.replayed} answered as a replay)`],
      ['delivered', `${r.delivered}${tls}; copies: ${r.notifications} portal notifications, ${r.withContent} with the payslip attached${content}`],
      ['lost (must be 0)', String(r.lost)],
      [
        `duplicates (must be ≤ ${allowedDuplicates}: ${workerKills} worker kills × WORKER_CONCURRENCY ${settings.workerConcurrency})`,
        `${r.duplicates}; logbook lease_expired possibleDuplicate on ${logbook.flaggedRecipientIds.size} recipients, ${unflaggedDuplicates.length} duplicates without one`,
      ],
      [
        'faults',
        `${workerKills}/${planned.worker_kill} worker SIGKILL, ${injected('api_kill')}/${planned.api_kill} API SIGKILL, ` +
          `SMTP peer down ${injected('smtp_outage') ? `${settings.smtpOutageSeconds} s` : 'no'}, ` +
          `PostgreSQL restart ${injected('postgres_restart')}/${planned.postgres_restart}${settings.postgresRestart && !postgresRestart ? ' (skipped: DATABASE_URL)' : ''}`,
      ],
      ['time to drain', `${drainSeconds.toFixed(1)} s (submissions took ${submitSeconds.toFixed(1)} s)`],
      ['msg/s', `${(r.delivered / drainSeconds).toFixed(1)} delivered/s, ${(acknowledged.size / submitSeconds).toFixed(1)} acknowledged/s`],
      ...slots.map((s): [string, string] => [`peak RSS ${s.name}`, `${mib(s.peakRssBytes)} (${s.starts} process${s.starts === 1 ? '' : 'es'})`]),
      ['peak RSS soak driver (submitters, SMTP peer)', mib(driverPeak)],
      ['submission retries', [...retries].map(([reason, n]) => `${n} × ${reason}`).join('; ') || 'none'],
      ['result', failures.length === 0 ? 'PASS' : `FAIL: ${failures.length} problem${failures.length === 1 ? '' : 's'}`],
    ]);
    log('');
    log(table);
    for (const failure of failures) log(`FAIL: ${failure}`);

    const result: SoakResult = {
      benchmark: 'soak',
      startedAt: startedAt.toISOString(),
      settings: { ...settings, postgresRestart },
      machine: machineInfo(),
      git: gitInfo(),
      load: { start: loadAtStart, end: loadSnapshot() },
      ok: failures.length === 0,
      failures,
      table,
      acknowledged: acknowledged.size,
      acknowledgedByDoor: { rest: acks.rest, soap: acks.soap },
      acknowledgedAfterRetry: acks.afterRetry,
      replayed: acks.replayed,
      committedMessages: logbook.committedMessages,
      delivered: r.delivered,
      lost: r.lost,
      duplicates: r.duplicates,
      duplicateTrails,
      possibleDuplicatesFlagged: logbook.flaggedRecipientIds.size,
      unflaggedDuplicates: unflaggedDuplicates.length,
      unacknowledgedArrivals: r.unacknowledgedArrivals,
      corrupted: r.corrupted,
      copiesWithContent: r.withContent,
      notifications: r.notifications,
      plaintextCopies: r.plaintext,
      workerKills,
      faults: faults.events,
      drainSeconds: round(drainSeconds),
      submitSeconds: round(submitSeconds),
      deliveredPerSecond: round(r.delivered / drainSeconds),
      acknowledgedPerSecond: round(acknowledged.size / submitSeconds),
      peakRssBytes: { ...Object.fromEntries(slots.map((s) => [s.name, s.peakRssBytes])), driver: driverPeak },
      processStarts: Object.fromEntries(slots.map((s) => [s.name, s.starts])),
      submissionRetries: Object.fromEntries(retries),
      refused,
      gaveUp,
      recipientStates: logbook.recipientStates,
      eventCounts: logbook.eventCounts,
      unexpectedExits,
    };
    if (settings.writeResults) {
      result.resultFile = writeResultFile('soak', startedAt, result);
      log(`results: ${result.resultFile}`);
    }
    return result;
  } finally {
    stopFaults();
    if (sampler) clearInterval(sampler);
    await Promise.all(slots.map((s) => s.stop(5_000).catch(() => {})));
    await peer?.close().catch(() => {});
    await dropDatabase?.().catch(() => {});
    await database?.stop().catch(() => {});
    if (settings.keepLogs) {
      const kept = mkdtempSync(join(tmpdir(), 'sealpost-soak-logs-'));
      for (const file of readdirSync(tempDir).filter((f) => f.endsWith('.log'))) copyFileSync(join(tempDir, file), join(kept, file));
      log(`logs kept in ${kept}`);
    }
    rmSync(tempDir, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}

const messageIdOf = (recipientId: string) => `<${recipientId}@${MESSAGE_ID_DOMAIN}>`;
const recipientIdOf = (messageId: string) => messageId.slice(1, messageId.indexOf('@'));
const round = (n: number) => Math.round(n * 100) / 100;

// `npm run soak` (tsx bench/soak.ts): settings from the environment, exit code from the result.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const settings = soakSettingsFromEnv();
  console.log(`settings: ${JSON.stringify(settings)}`);
  // Last resort beyond the budget: whatever hangs, the children go and the process ends.
  setTimeout(() => {
    console.error(`FAIL: still running ${settings.budgetSeconds + 60} s after the start; stopping everything`);
    killAllChildrenNow();
    process.exit(1);
  }, (settings.budgetSeconds + 60) * 1000).unref();
  runSoak(settings).then(
    (result) => process.exit(result.ok ? 0 : 1),
    (error: unknown) => {
      console.error('FAIL:', error);
      process.exit(1);
    },
  );
}
