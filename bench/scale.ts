/**
 * `npm run bench:scale`: horizontal scaling as an operator runs it. Two
 * `sealpost serve` and three `sealpost worker` processes (the real CLI) on one
 * PostgreSQL; an SMTP sink in this process counts what arrives by Message-ID.
 * Submissions alternate between the two APIs; the run ends when every recipient
 * copy has arrived (or the time budget is spent) and reports deliveries per
 * worker process, duplicates and the time to drain.
 *
 * Settings (environment): SCALE_MESSAGES (default 1000), SCALE_ATTACHMENT_KB
 * (200), SCALE_CONNECTIONS (16), SCALE_WORKERS (3), SCALE_APIS (2),
 * SCALE_BUDGET_SECONDS (600). DATABASE_URL uses that server instead of an
 * embedded one. Loopback only; every child is stopped, and the temp directory
 * removed, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../test/support/local.ts';
import { adminQuery, createDatabase, startDatabaseServer, type DatabaseServer } from './lib/database.ts';
import { gitInfo, loadSnapshot, machineInfo } from './lib/machine.ts';
import { pdfLike } from './lib/payload.ts';
import { writeResultFile } from './lib/results.ts';
import { runSealpost, sealpostBin, stopProcess, waitReady } from './lib/sealpost-cli.ts';
import { intSetting } from './lib/settings.ts';

const setting = (name: string, fallback: number) => intSetting(name, fallback);
const settings = {
  messages: setting('SCALE_MESSAGES', 1000),
  attachmentBytes: setting('SCALE_ATTACHMENT_KB', 200) * 1024,
  connections: setting('SCALE_CONNECTIONS', 16),
  workers: setting('SCALE_WORKERS', 3),
  apis: setting('SCALE_APIS', 2),
  budgetSeconds: setting('SCALE_BUDGET_SECONDS', 600),
};
const bin = sealpostBin;
const children: ChildProcess[] = [];

async function main(): Promise<number> {
  const startedAt = new Date();
  const tempDir = mkdtempSync(join(tmpdir(), 'sealpost-scale-'));
  chmodSync(tempDir, 0o755); // the embedded cluster runs as the unprivileged postgres user
  const stopEverything = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.on('exit', stopEverything);
  const deadline = setTimeout(() => {
    console.error(`\nFAIL: over the time budget of ${settings.budgetSeconds} s`);
    stopEverything();
    process.exit(1);
  }, settings.budgetSeconds * 1000);

  let database: DatabaseServer | undefined;
  const sink = await startSink();
  try {
    const loadAtStart = loadSnapshot();
    database = await startDatabaseServer(tempDir);
    const db = await createDatabase(database.adminUrl, 'sealpost_scale');
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: join(tempDir, 'var'),
      LOG_LEVEL: 'warn',
      SMTP_URL: sink.url,
      MESSAGE_ID_DOMAIN: 'scale.test',
      RATE_LIMIT_PER_KEY_PER_MINUTE: '10000000',
    };
    await runSealpost(['migrate'], env);
    const { apiKey } = JSON.parse(await runSealpost(['tenant', 'create', 'scale', '--json'], env)) as { apiKey: string };

    const apiPorts: number[] = [];
    for (let i = 0; i < settings.apis; i++) {
      const port = await freePort();
      apiPorts.push(port);
      start(`api${i}`, [bin, 'serve'], { ...env, PORT: String(port), HOST: '127.0.0.1' }, tempDir);
    }
    for (let i = 0; i < settings.workers; i++) start(`worker${i}`, [bin, 'worker'], env, tempDir);
    await Promise.all(apiPorts.map((port) => waitReady(port)));

    console.log(
      `${settings.apis} × sealpost serve, ${settings.workers} × sealpost worker, PostgreSQL ${database.version} (${database.kind}); ` +
        `${settings.messages} messages with a ${settings.attachmentBytes / 1024} KiB attachment, ${settings.connections} connections`,
    );
    console.log(`load at start: ${loadAtStart.uptime}`);

    const body = JSON.stringify({
      from: 'payroll@example.com',
      subject: 'Payslip',
      text: 'Your payslip is attached.',
      attachments: [{ filename: 'payslip.pdf', contentType: 'application/pdf', content: pdfLike(settings.attachmentBytes).toString('base64') }],
    });
    const submitStart = performance.now();
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: settings.connections }, async (_, lane) => {
        for (let i = next++; i < settings.messages; i = next++) {
          const port = apiPorts[(lane + i) % apiPorts.length]!;
          const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
            body: body.replace('"subject"', `"to":["employee${i}@example.org"],"subject"`),
          });
          if (res.status !== 202) failed++;
          await res.arrayBuffer();
        }
      }),
    );
    const submitSeconds = (performance.now() - submitStart) / 1000;
    process.stdout.write(`submitted in ${submitSeconds.toFixed(1)} s (${failed} refused); waiting for delivery… `);

    while (sink.unique.size < settings.messages - failed) await new Promise((r) => setTimeout(r, 200));
    const drainSeconds = (sink.lastArrival - submitStart) / 1000;
    console.log(`all delivered after ${drainSeconds.toFixed(1)} s`);

    const perWorker = await adminQuery<{ worker: string; n: number }>(
      db.url,
      `SELECT detail->>'worker' AS worker, count(*)::int AS n FROM events WHERE type = 'processing' GROUP BY 1 ORDER BY 1`,
    );
    const duplicates = sink.received - sink.unique.size;
    const result = {
      benchmark: 'scale',
      startedAt: startedAt.toISOString(),
      settings,
      machine: machineInfo(),
      git: gitInfo(),
      load: { start: loadAtStart, end: loadSnapshot() },
      submitted: settings.messages - failed,
      refused: failed,
      submissionsPerSecond: round((settings.messages - failed) / submitSeconds),
      delivered: sink.unique.size,
      duplicates,
      drainSeconds: round(drainSeconds),
      deliveriesPerSecond: round(sink.unique.size / drainSeconds),
      perWorker: perWorker.map((w) => ({ worker: w.worker, jobs: w.n, perSecond: round(w.n / drainSeconds) })),
    };
    console.log(`\nworker                               jobs   msg/s`);
    for (const w of result.perWorker) console.log(`${w.worker.padEnd(36)} ${String(w.jobs).padStart(5)} ${String(w.perSecond).padStart(7)}`);
    console.log(
      `\nsubmitted ${result.submitted} (${result.submissionsPerSecond}/s over ${settings.apis} APIs), delivered ${result.delivered}, ` +
        `duplicates ${duplicates}, ${result.deliveriesPerSecond} deliveries/s over ${settings.workers} workers`,
    );
    console.log(`load at end: ${result.load.end.uptime}`);
    const file = writeResultFile('scale', startedAt, result);
    console.log(`results: ${file}`);
    const ok = failed === 0 && duplicates === 0 && perWorker.length === settings.workers;
    if (!ok) console.error('FAIL: refused submissions, duplicates, or a worker that delivered nothing');
    return ok ? 0 : 1;
  } finally {
    clearTimeout(deadline);
    await Promise.all(children.map((c) => stopProcess(c)));
    await sink.close();
    await database?.stop().catch(() => {});
    rmSync(tempDir, { recursive: true, force: true });
  }
}

function start(name: string, args: string[], env: Record<string, string>, tempDir: string): void {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (d: Buffer) => (errors = (errors + d.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') writeFileSync(join(tempDir, `${name}.stderr`), errors);
  });
  children.push(child);
}

/** An SMTP sink counting copies by Message-ID (loopback, no TLS: the transport is not what is measured). */
async function startSink() {
  const unique = new Set<string>();
  const state = { received: 0, lastArrival: 0 };
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (d: Buffer) => {
        if (head.length < 8192) head += d.toString('latin1');
      });
      stream.on('end', () => {
        const id = /^Message-ID:\s*(<[^>]+>)/im.exec(head)?.[1] ?? `missing-${state.received}`;
        state.received++;
        unique.add(id);
        state.lastArrival = performance.now();
        callback(null, 'Ok: queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    unique,
    get received() {
      return state.received;
    },
    get lastArrival() {
      return state.lastArrival;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('FAIL:', error);
    process.exit(1);
  },
);
