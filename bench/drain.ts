/**
 * `npm run bench:drain`: how fast queued mail leaves. DRAIN_MESSAGES (default
 * 5000) messages with a 200 KB attachment are queued (submitted in-process
 * through the REST door, before any worker runs), then 1 and then 2 `sealpost
 * worker` processes (the real CLI) sign and encrypt each copy (S/MIME identity
 * and recipient certificate imported first) and hand it over, under the
 * `mutual-tls` policy, to an SMTP peer on loopback that requires our client
 * certificate. Reports msg/s end to end (first worker start to last message
 * received, and to the last evidence those copies owe) and the peak RSS (VmHWM) of each worker process, and where the CPU
 * went in that window (bench/lib/cpu-accounting.ts): ms per message in the
 * workers, in PostgreSQL (the embedded cluster's processes), in this process
 * (the SMTP peer and the idle app) and elsewhere on the machine, over the
 * whole window and again from the first tenth delivered on (workers warm). The
 * peer keeps only the first 4 KiB of each message (enough to see it is
 * encrypted); the run fails when one is not, when a worker exits, or when an
 * attempt had to be retried (the peer never refuses, so a retry means an
 * SMTP-side timeout or a broken session).
 *
 * Settings (environment, or `--messages N --workers 1,2`): DRAIN_MESSAGES
 * (5000), DRAIN_ATTACHMENT_KB (200), DRAIN_WORKERS ("1,2"), DRAIN_CONCURRENCY
 * (WORKER_CONCURRENCY per process, 8), DRAIN_BUDGET_SECONDS (1800), DRAIN_COMPILED (1: the
 * workers run the compiled package, as deployed, built first into a temporary
 * directory; 0: from the TypeScript sources through tsx, about 2.5 s more CPU
 * per worker at start), DRAIN_DB_SOCKET (1: the workers reach the embedded
 * PostgreSQL over its Unix socket, as a worker on the database's host would;
 * 0: over loopback TCP, about 1 ms more CPU per copy here).
 * DRAIN_PG_STATEMENTS=1 loads pg_stat_statements into the embedded cluster and
 * prints, per round, the statements PostgreSQL spent most time executing and
 * planning (per copy delivered), and how often each was called and planned.
 * DATABASE_URL uses that server instead of an embedded one (as given). Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { openRuntime } from '../src/runtime.ts';
import { createApiKey, createTenant } from '../src/core/tenants.ts';
import { createTestCa } from '../test/support/pki.ts';
import { createSmimeCa } from '../test/support/smime-certs.ts';
import { startSmtpPeer } from '../test/support/smtp-peer.ts';
import { killAllChildrenNow, projectRoot, trackChild } from './lib/children.ts';
import { buildCompiledPackage } from './lib/compiled-build.ts';
import { withDatabase } from '../test/support/local.ts';
import { cpuSnapshot, cpuSplit, formatCpuSplit, postmasterPid, type CpuSnapshot, type CpuSplit } from './lib/cpu-accounting.ts';
import { adminQuery, createDatabase, startDatabaseServer, type DatabaseServer } from './lib/database.ts';
import { gitInfo, loadSnapshot, machineInfo } from './lib/machine.ts';
import { pdfLike } from './lib/payload.ts';
import { writeResultFile } from './lib/results.ts';
import { intSetting } from './lib/settings.ts';

process.on('exit', killAllChildrenNow);
/** DRAIN_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the worker processes, to see where their time goes. */
const workerNodeArgs = (process.env.DRAIN_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** DRAIN_WORKER_STDOUT=1: the workers' standard output on this one, for what V8 prints there (DRAIN_NODE_ARGS="--trace-opt --trace-deopt"). */
const workerStdout = process.env.DRAIN_WORKER_STDOUT === '1' ? 'inherit' : 'ignore';
const { values: args } = parseArgs({ options: { messages: { type: 'string' }, workers: { type: 'string' } } });
const settings = {
  messages: args.messages ? Number(args.messages) : intSetting('DRAIN_MESSAGES', 5000),
  attachmentBytes: intSetting('DRAIN_ATTACHMENT_KB', 200) * 1024,
  workers: (args.workers ?? process.env.DRAIN_WORKERS ?? '1,2').split(',').map((n) => Number(n.trim())),
  concurrency: intSetting('DRAIN_CONCURRENCY', 8),
  budgetSeconds: intSetting('DRAIN_BUDGET_SECONDS', 1800),
  compiled: process.env.DRAIN_COMPILED !== '0',
  socket: process.env.DRAIN_DB_SOCKET !== '0',
  pgStatements: process.env.DRAIN_PG_STATEMENTS === '1',
};
if (!Number.isInteger(settings.messages) || settings.messages < 1) throw new Error('--messages must be a positive integer');
if (!settings.workers.every((n) => Number.isInteger(n) && n > 0)) throw new Error('--workers must be a comma-separated list of positive integers');

interface Round {
  workers: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** Until the last evidence the copies owe was issued as well (the outbox empty of deliver and evidence jobs). */
  secondsWithEvidence: number;
  messagesPerSecondWithEvidence: number;
  peakRssMiB: number[];
  failed: number;
  /**
   * Attempts that ended in a retry (`retry_scheduled` events) during the round:
   * an SMTP-side timeout, a refused connection or a 4xx would each show here.
   */
  retried: number;
  /** Mean size of a delivered message as the peer received it. */
  messageKiB: number;
  /** Delivered copies whose head does not say S/MIME enveloped-data. */
  notEncrypted: number;
  /** DRAIN_PG_STATEMENTS=1: where PostgreSQL's execution and planning time went, per copy delivered. */
  pgStatements?: StatementCost[];
  cpu: {
    /** From the workers' start until the copies' evidence is issued too, their start-up included. */
    window: CpuSplit;
    /** From the first tenth of the messages received to the last (warm workers); absent when the first sample saw them all. */
    afterFirstTenth?: CpuSplit & { messagesPerSecond: number };
  };
}

/** How much of each message the peer keeps: the headers, where the S/MIME content type is. */
const headBytes = 4096;
const isEncrypted = (head: Buffer) => /application\/pkcs7-mime; smime-type=enveloped-data/i.test(head.toString('latin1'));

async function main(): Promise<number> {
  const startedAt = new Date();
  const tempDir = mkdtempSync(join(tmpdir(), 'sealpost-drain-'));
  chmodSync(tempDir, 0o755); // the embedded cluster runs as the unprivileged postgres user
  // The `sealpost` command the workers run: compiled as deployed, or bin/sealpost.js (tsx from the sources).
  const cli = settings.compiled ? buildCompiledPackage(join(tempDir, 'package')) : join(projectRoot, 'bin', 'sealpost.js');
  const children: ChildProcess[] = [];
  const deadline = setTimeout(() => {
    console.error(`\nFAIL: over the time budget of ${settings.budgetSeconds} s`);
    children.forEach((c) => c.kill('SIGKILL'));
    process.exit(1);
  }, settings.budgetSeconds * 1000);
  let database: DatabaseServer | undefined;

  // The peer: STARTTLS with a certificate from its CA, and it requires a client certificate from ours.
  const clientCa = await createTestCa('Drain Client CA');
  const peer = await startSmtpPeer({ clientCa: clientCa.certPem, headBytes });
  const client = await clientCa.issueClient('sealpost.drain.test');
  const file = (name: string, text: string) => {
    writeFileSync(join(tempDir, name), text);
    return join(tempDir, name);
  };
  try {
    const loadAtStart = loadSnapshot();
    database = await startDatabaseServer(
      tempDir,
      settings.pgStatements ? { settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.track_planning': 'on' } } : {},
    );
    const db = await createDatabase(database.adminUrl, 'sealpost_drain');
    if (settings.pgStatements) await adminQuery(db.url, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const workerDatabaseUrl = settings.socket && database.socketAdminUrl ? withDatabase(database.socketAdminUrl, db.name) : db.url;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: workerDatabaseUrl,
      SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: join(tempDir, 'var'),
      LOG_LEVEL: 'warn',
      MESSAGE_ID_DOMAIN: 'drain.test',
      SMTP_URL: peer.url,
      SMTP_TLS_CA_FILE: peer.caFile,
      TRANSPORT_POLICY: 'mutual-tls',
      TRANSPORT_CLIENT_CERT_FILE: file('client.crt', client.certPem),
      TRANSPORT_CLIENT_KEY_FILE: file('client.key', client.keyPem),
      WORKER_CONCURRENCY: String(settings.concurrency),
      WORKER_POLL_INTERVAL_MS: '500',
      MAX_RECIPIENTS: '1000',
    };
    const config = loadConfig({ ...env, WORKER_ENABLED: 'false' });
    const log = createLogger('warn', 'stderr');
    const runtime = await openRuntime(config, log);
    const retryCount = async () =>
      Number((await runtime.database.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'retry_scheduled'`)).rows[0].n);
    const app = await buildApp({ config, core: runtime.core, pool: runtime.database.pool, log });
    await app.ready();
    const rounds: Round[] = [];
    try {
      const { tenantId } = await createTenant(runtime.database.db, 'drain', { role: 'admin', senderDomains: ['example.com'] });
      const admin = `Bearer ${(await createApiKey(runtime.database.db, tenantId, 'admin')).apiKey}`;
      const submitter = `Bearer ${(await createApiKey(runtime.database.db, tenantId, 'submitter')).apiKey}`;
      const smime = await createSmimeCa('Drain S/MIME CA');
      const sender = await smime.issueUser('Payroll', { emails: ['payroll@example.com'] });
      const anna = await smime.issueUser('Anna Muster', { emails: ['anna@example.org'] });
      for (const [url, payload] of [
        ['/v1/trust-anchors', { certificate: smime.root.certPem }],
        ['/v1/identities', { certificate: sender.certPem, privateKey: sender.keyPem, chain: smime.intermediate.certPem }],
        ['/v1/certificates', { certificate: anna.certPem, chain: smime.intermediate.certPem }],
      ] as const) {
        const res = await app.inject({ method: 'POST', url, headers: { authorization: admin }, payload });
        if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      }
      const body = JSON.stringify({
        from: 'payroll@example.com',
        to: ['anna@example.org'],
        subject: 'Payslip',
        text: 'Your payslip is attached.',
        attachments: [{ filename: 'payslip.pdf', contentType: 'application/pdf', content: pdfLike(settings.attachmentBytes).toString('base64') }],
      });

      console.log(
        `PostgreSQL ${database.version} (${database.kind}, workers connect over ${workerDatabaseUrl === db.url ? 'TCP' : 'its Unix socket'}); ${settings.messages} messages × ${settings.attachmentBytes / 1024} KiB, signed and encrypted, ` +
          `mutual TLS to a loopback peer; workers ${settings.compiled ? 'compiled' : 'through tsx'}; WORKER_CONCURRENCY ${settings.concurrency}; load at start: ${loadAtStart.uptime}`,
      );
      for (const workers of settings.workers) {
        process.stdout.write(`${workers} worker(s): queueing ${settings.messages}… `);
        for (let i = 0; i < settings.messages; i++) {
          const res = await app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: submitter, 'content-type': 'application/json' }, payload: body });
          if (res.statusCode !== 202) throw new Error(`submission ${i}: ${res.statusCode} ${res.body}`);
        }
        peer.received.length = 0;
        if (settings.pgStatements) await adminQuery(db.url, 'SELECT pg_stat_statements_reset()');
        const started = performance.now();
        const postgresPid = database.dataDir === undefined ? undefined : postmasterPid(database.dataDir);
        const cpuAtStart = cpuSnapshot({ postgresPid, workerPids: [] });
        const procs = Array.from({ length: workers }, () => {
          const child = spawn(process.execPath, [...workerNodeArgs, cli, 'worker'], { env, stdio: ['ignore', workerStdout, 'inherit'] });
          trackChild(child);
          children.push(child);
          return child;
        });
        const workerPids = procs.map((p) => p.pid!);
        const peaks = procs.map(() => 0);
        const sample = () => procs.forEach((p, i) => (peaks[i] = Math.max(peaks[i]!, peakRss(p.pid))));
        let failed = 0;
        const retriedBefore = await retryCount();
        let warm: { cpu: CpuSnapshot; delivered: number } | undefined;
        for (let tick = 0; peer.received.length + failed < settings.messages; tick++) {
          await new Promise((r) => setTimeout(r, 200));
          // A worker that dies on its own (a crash, a flag node refuses) would otherwise leave the run waiting out its budget.
          const dead = procs.find((p) => p.exitCode !== null || p.signalCode !== null);
          if (dead) throw new Error(`a sealpost worker exited unasked (${dead.exitCode ?? dead.signalCode}) after ${peer.received.length} messages`);
          sample();
          if (!warm && peer.received.length >= settings.messages / 10) warm = { cpu: cpuSnapshot({ postgresPid, workerPids }), delivered: peer.received.length };
          if (tick % 25 === 0) {
            failed = Number((await runtime.database.pool.query(`SELECT count(*)::int AS n FROM recipients WHERE status = 'failed'`)).rows[0].n);
            process.stdout.write(`${peer.received.length} `);
          }
        }
        const seconds = (performance.now() - started) / 1000;
        // The evidence each copy owes (its `submitted` and `delivered` proofs) is part of what delivering it costs:
        // the round ends when that is issued too, so its CPU counts here and the next round starts with an empty outbox.
        for (;;) {
          const owed = Number((await runtime.database.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind IN ('deliver', 'evidence')`)).rows[0].n);
          if (owed === 0) break;
          const dead = procs.find((p) => p.exitCode !== null || p.signalCode !== null);
          if (dead) throw new Error(`a sealpost worker exited unasked (${dead.exitCode ?? dead.signalCode}) with ${owed} jobs owed`);
          sample();
          await new Promise((r) => setTimeout(r, 200));
        }
        const secondsWithEvidence = (performance.now() - started) / 1000;
        const cpuAtEnd = cpuSnapshot({ postgresPid, workerPids });
        const windowCpu = cpuSplit(cpuAtStart, cpuAtEnd, peer.received.length);
        const warmSplit = warm && warm.delivered < peer.received.length ? cpuSplit(warm.cpu, cpuAtEnd, peer.received.length - warm.delivered) : undefined;
        const afterFirstTenth = warmSplit && { ...warmSplit, messagesPerSecond: round2(warmSplit.messages / warmSplit.seconds) };
        sample();
        await Promise.all(procs.map((p) => stop(p)));
        const round: Round = {
          workers,
          messages: peer.received.length,
          seconds: round2(seconds),
          messagesPerSecond: round2(peer.received.length / seconds),
          secondsWithEvidence: round2(secondsWithEvidence),
          messagesPerSecondWithEvidence: round2(peer.received.length / secondsWithEvidence),
          peakRssMiB: peaks.map((b) => round2(b / 1024 / 1024)),
          failed,
          retried: (await retryCount()) - retriedBefore,
          messageKiB: round2(peer.received.reduce((sum, m) => sum + m.bytes, 0) / Math.max(1, peer.received.length) / 1024),
          notEncrypted: peer.received.filter((m) => !isEncrypted(m.raw)).length,
          cpu: { window: windowCpu, ...(afterFirstTenth && { afterFirstTenth }) },
          ...(settings.pgStatements && { pgStatements: await topStatements(db.url, peer.received.length) }),
        };
        rounds.push(round);
        console.log(
          `\n  ${round.messages} delivered in ${round.seconds} s: ${round.messagesPerSecond} msg/s; ` +
            `their evidence issued too after ${round.secondsWithEvidence} s: ${round.messagesPerSecondWithEvidence} msg/s; peak RSS per worker ${round.peakRssMiB.join(', ')} MiB; ` +
            `${round.messageKiB} KiB each; failed ${failed}; retried ${round.retried}; not encrypted ${round.notEncrypted}\n` +
            `  whole window: ${formatCpuSplit(windowCpu)}` +
            (afterFirstTenth
              ? `\n  after the first tenth (${afterFirstTenth.messages} messages, ${afterFirstTenth.messagesPerSecond} msg/s): ${formatCpuSplit(afterFirstTenth)}`
              : '') +
            (round.pgStatements
              ? `\n  PostgreSQL execution + planning per copy (pg_stat_statements):\n` +
                round.pgStatements.map((c) => `    ${String(c.usPerCopy).padStart(6)} µs  ${String(c.callsPerCopy).padStart(5)} calls  ${String(c.plansPerCopy).padStart(5)} plans  ${c.query}`).join('\n')
              : ''),
        );
      }
      const encrypted = rounds.every((r) => r.notEncrypted === 0);
      const result = {
        benchmark: 'drain',
        startedAt: startedAt.toISOString(),
        settings,
        workersReachDatabaseOver: workerDatabaseUrl === db.url ? 'tcp' : 'unix socket',
        machine: machineInfo(),
        git: gitInfo(),
        load: { start: loadAtStart, end: loadSnapshot() },
        rounds,
        allEncrypted: encrypted,
      };
      console.log(`results: ${writeResultFile('drain', startedAt, result)}`);
      const failures = rounds.flatMap((r) => [
        ...(r.failed > 0 ? [`${r.workers} worker(s): ${r.failed} recipients failed`] : []),
        ...(r.notEncrypted > 0 ? [`${r.workers} worker(s): ${r.notEncrypted} messages arrived without S/MIME enveloped-data`] : []),
        // The peer never refuses: a retry means a connection or session failed, e.g. the peer timed a slow worker out.
        ...(r.retried > 0 ? [`${r.workers} worker(s): ${r.retried} attempts were retried (see the logbook's retry_scheduled reasons)`] : []),
      ]);
      failures.forEach((f) => console.error(`FAIL: ${f}`));
      return failures.length === 0 ? 0 : 1;
    } finally {
      await app.close();
      await runtime.close();
    }
  } finally {
    clearTimeout(deadline);
    await Promise.all(children.map((c) => stop(c)));
    await peer.close();
    await database?.stop().catch(() => {});
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/** Peak resident set size (VmHWM) of a process, in bytes; 0 once it has gone. */
function peakRss(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const round2 = (n: number) => Math.round(n * 100) / 100;

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

interface StatementCost {
  query: string;
  callsPerCopy: number;
  /** Times PostgreSQL planned it, per copy: near callsPerCopy for a prepared statement it keeps planning again (custom plans). */
  plansPerCopy: number;
  /** Execution and planning time, µs per copy delivered. */
  usPerCopy: number;
}

/** The statements of the drain database that took PostgreSQL longest since the last reset. */
async function topStatements(url: string, copies: number): Promise<StatementCost[]> {
  const rows = await adminQuery<{ query: string; calls: number; plans: number; ms: number }>(
    url,
    `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query, calls::float8 AS calls, plans::float8 AS plans,
            (total_exec_time + total_plan_time)::float8 AS ms
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time + total_plan_time DESC LIMIT 14`,
  );
  const n = Math.max(1, copies);
  return rows.map((r) => ({ query: r.query, callsPerCopy: round2(r.calls / n), plansPerCopy: round2(r.plans / n), usPerCopy: Math.round((r.ms * 1000) / n) }));
}
