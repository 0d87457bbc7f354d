import { adminQuery, type DatabaseServer } from './database.ts';
import type { DigestSmtpPeer } from './digest-smtp-peer.ts';
import type { ProcessSlot } from './process-slot.ts';
import { waitReady } from './sealpost-cli.ts';

export type FaultKind = 'worker_kill' | 'api_kill' | 'smtp_outage' | 'postgres_restart';

export interface FaultEvent {
  fault: FaultKind;
  /** Seconds since the first submission. */
  at: number;
  seconds: number;
  detail: string;
  /** Set when the fault could not be injected or its aftermath not restored (a restart that failed). */
  error?: string;
}

export interface FaultPlan {
  workerKills: number;
  apiKills: number;
  smtpOutageSeconds: number;
  postgresRestart: boolean;
  postgresDownSeconds: number;
}

export interface FaultTargets {
  workers: ProcessSlot[];
  apis: Array<{ slot: ProcessSlot; port: number }>;
  peer: DigestSmtpPeer;
  database: DatabaseServer;
  databaseUrl: string;
  messages: number;
  progress(): { acknowledged: number; delivered: number; submitting: boolean };
  /** performance.now() of the first submission. */
  t0: number;
  /** Date.now() after which nothing new is started. */
  deadline: number;
}

/**
 * Injects the planned faults, each when the run has got far enough (so they are
 * spread over it whatever the machine's speed): worker kills at even steps of
 * delivery, the SMTP outage at a quarter delivered, the PostgreSQL restart at 30 %
 * acknowledged and API kills between 50 and 90 %, while submissions come in. Kills and the restart take turns (one at a
 * time, so an API is never restarted against a database that is down); the SMTP
 * outage runs beside them.
 */
export function startFaults(plan: FaultPlan, targets: FaultTargets, log: (line: string) => void) {
  const events: FaultEvent[] = [];
  let stopped = false;
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn, fn);
    turn = run.catch(() => {});
    return run;
  };
  const n = targets.messages;
  const record = async (fault: FaultKind, inject: () => Promise<string>) => {
    const started = performance.now();
    let detail: string;
    let error: string | undefined;
    try {
      detail = await inject();
    } catch (e) {
      detail = 'failed';
      error = (e as Error).message;
    }
    const event: FaultEvent = { fault, at: round((started - targets.t0) / 1000), seconds: round((performance.now() - started) / 1000), detail, ...(error && { error }) };
    events.push(event);
    log(`fault at ${event.at} s: ${fault} (${error ? `FAILED: ${error}` : detail}, ${event.seconds} s)`);
  };
  const when = async (reached: (p: ReturnType<FaultTargets['progress']>) => boolean): Promise<boolean> => {
    while (!stopped && Date.now() < targets.deadline) {
      if (reached(targets.progress())) return true;
      await sleep(100);
    }
    return false;
  };

  const tasks: Array<Promise<void>> = [];
  for (let i = 0; i < plan.workerKills; i++) {
    const threshold = Math.ceil((n * (i + 1)) / (plan.workerKills + 1));
    tasks.push(
      (async () => {
        if (!(await when((p) => p.delivered >= threshold))) return;
        // At a moment of its own, not the one a copy just arrived (which is when the threshold is crossed).
        await sleep(Math.random() * 1_000);
        await exclusive(() => record('worker_kill', () => killBusiestWorker(targets, i)));
      })(),
    );
  }
  for (let j = 0; j < plan.apiKills; j++) {
    const threshold = Math.ceil(n * (0.5 + (0.4 * (j + 1)) / (plan.apiKills + 1)));
    tasks.push(
      (async () => {
        if (!(await when((p) => p.acknowledged >= threshold || !p.submitting))) return;
        await exclusive(() =>
          record('api_kill', async () => {
            const during = targets.progress().submitting;
            const api = targets.apis[j % targets.apis.length]!;
            const pid = api.slot.pid;
            await api.slot.kill();
            api.slot.start();
            await waitReady(api.port, 60_000, () => api.slot.alive);
            return `${api.slot.name} pid ${pid} SIGKILL ${during ? 'during submissions' : 'after submissions'}, restarted on port ${api.port}`;
          }),
        );
      })(),
    );
  }
  if (plan.postgresRestart && targets.database.restart) {
    const restart = targets.database.restart;
    const threshold = Math.ceil(n * 0.3);
    tasks.push(
      (async () => {
        if (!(await when((p) => p.acknowledged >= threshold || !p.submitting))) return;
        await exclusive(() =>
          record('postgres_restart', async () => {
            const during = targets.progress().submitting;
            await restart(plan.postgresDownSeconds * 1000);
            return `fast shutdown, down ${plan.postgresDownSeconds} s, same data directory and port, ${during ? 'during submissions' : 'after submissions'}`;
          }),
        );
      })(),
    );
  }
  if (plan.smtpOutageSeconds > 0) {
    const threshold = Math.ceil(n * 0.25);
    tasks.push(
      (async () => {
        if (!(await when((p) => p.delivered >= threshold))) return;
        await record('smtp_outage', async () => {
          await targets.peer.down();
          await sleep(Math.max(0, Math.min(plan.smtpOutageSeconds * 1000, targets.deadline - Date.now())));
          await targets.peer.up();
          return `peer down ${plan.smtpOutageSeconds} s, back on port ${targets.peer.port}`;
        });
      })(),
    );
  }

  return {
    events,
    /** Resolves when every planned fault has been injected (or given up at stop or the deadline). */
    done: Promise.all(tasks).then(() => events),
    stop() {
      stopped = true;
    },
  };
}

/** SIGKILLs the worker holding the most leased jobs right now (round robin when the database cannot say), then restarts it. */
async function killBusiestWorker(targets: FaultTargets, i: number): Promise<string> {
  const alive = targets.workers.filter((w) => w.alive);
  let victim = alive[i % Math.max(alive.length, 1)] ?? targets.workers[i % targets.workers.length]!;
  let inFlight: number | undefined;
  try {
    const rows = await adminQuery<{ locked_by: string; n: number }>(
      targets.databaseUrl,
      `SELECT locked_by, count(*)::int AS n FROM outbox WHERE locked_until > now() GROUP BY 1 ORDER BY 2 DESC`,
    );
    for (const row of rows) {
      const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(row.locked_by)?.[1]);
      const busiest = alive.find((w) => w.pid === pid);
      if (busiest) {
        victim = busiest;
        inFlight = row.n;
        break;
      }
    }
    inFlight ??= 0;
  } catch {
    /* the database is restarting: round robin */
  }
  const pid = victim.pid;
  await victim.kill();
  victim.start();
  return `${victim.name} pid ${pid} SIGKILL with ${inFlight ?? 'unknown'} jobs leased, restarted`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n * 10) / 10;
