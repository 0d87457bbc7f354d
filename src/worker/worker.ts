import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { Db } from '../db/client.ts';
import { claimDueJobs, type ClaimedJob } from '../outbox/claim.ts';
import { isJobKind, type JobKind } from '../outbox/job-kinds.ts';
import { extendLeases, releaseLeases } from '../outbox/lease.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import { listenForDeliveries } from './outbox-listener.ts';
import type { SettingsCache } from '../core/settings-cache.ts';

/** How a job ended, for logs and metrics. */
export type JobResult = 'delivered' | 'retrying' | 'failed' | 'skipped' | 'done';

/**
 * Does one claimed job. It must complete, reschedule or otherwise settle the job
 * before it resolves; if it throws, the job stays leased and is due again once
 * the lease runs out.
 */
export type JobHandler = (job: ClaimedJob, log: Logger) => Promise<JobResult>;

/** One handler per job kind: a kind without a handler cannot be queued. */
export type JobHandlers = { readonly [K in JobKind]: JobHandler };

/** A job of a kind this version does not know (queued by a newer one) waits this long for a worker that does. */
const UNKNOWN_KIND_DELAY_SECONDS = 300;

export interface WorkerOptions {
  db: Db;
  /** Stable id for leases and logs; generated when absent. */
  workerId?: string;
  databaseUrl: string;
  concurrency: number;
  pollIntervalMs: number;
  leaseSeconds: number;
  shutdownGraceMs: number;
  log: Logger;
  /** Told the settings version of every claim before its jobs run, so no job uses settings cached before a change it follows. */
  settings?: SettingsCache | undefined;
  /** Called after each job, for tests and metrics, with how long it took. */
  onJobDone?: (job: ClaimedJob, result: JobResult | 'error', seconds: number) => void;
}

export interface Worker {
  readonly id: string;
  /** Stops claiming, waits for in-flight jobs up to the grace period, hands back the rest. */
  stop(): Promise<void>;
}

export const newWorkerId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/**
 * Drains the outbox: claims due jobs up to `concurrency`, runs each through the handler of its kind, keeps
 * their leases alive while they run. Wakes on NOTIFY from a submission and polls
 * as a fallback (missed notifications, retries coming due, expired leases).
 */
export function startWorker(handlers: JobHandlers, options: WorkerOptions): Worker {
  const { db } = options;
  const workerId = options.workerId ?? newWorkerId();
  const log = options.log.child({ workerId });
  const inFlight = new Map<number, Promise<void>>();
  let running = true;
  let wake: (() => void) | undefined;
  let pendingWake = false;

  const signal = () => {
    pendingWake = true;
    wake?.();
  };
  const listener = listenForDeliveries(options.databaseUrl, signal, log);

  const heartbeat = setInterval(() => {
    extendLeases(db, workerId, [...inFlight.keys()], options.leaseSeconds).catch((err: unknown) =>
      log.warn({ err }, 'could not extend leases'),
    );
  }, (options.leaseSeconds * 1000) / 3);
  heartbeat.unref();

  const handle = async (job: ClaimedJob, jobLog: Logger): Promise<JobResult> => {
    if (isJobKind(job.kind)) return handlers[job.kind](job, jobLog);
    jobLog.warn('no handler for this job kind in this version; leaving it for one that has');
    await rescheduleJob(db, job.id, UNKNOWN_KIND_DELAY_SECONDS);
    return 'skipped';
  };

  const runJob = (job: ClaimedJob) => {
    const jobLog = log.child({ job: job.id, kind: job.kind, messageId: job.messageId, recipientId: job.recipientId, attempt: job.attempts });
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const done = handle(job, jobLog)
      .then((result) => {
        jobLog.info({ result }, 'job finished');
        options.onJobDone?.(job, result, seconds());
      })
      .catch((err: unknown) => {
        // The job stays leased; after the lease it is due again.
        jobLog.error({ err }, 'job failed unexpectedly');
        options.onJobDone?.(job, 'error', seconds());
      })
      .finally(() => {
        inFlight.delete(job.id);
        signal();
      });
    inFlight.set(job.id, done);
  };

  // Claims in batches of a quarter of the concurrency (at least one): a claim per finished job would cost a
  // round trip per job, and waiting for a few free slots keeps the rest busy meanwhile.
  const batch = Math.max(1, Math.ceil(options.concurrency / 4));
  const loop = async () => {
    while (running) {
      pendingWake = false;
      const free = options.concurrency - inFlight.size;
      let claimed = 0;
      if (free >= batch || (free > 0 && inFlight.size === 0)) {
        try {
          const jobs = await claimDueJobs(db, workerId, free, options.leaseSeconds);
          claimed = jobs.length;
          if (jobs[0]) options.settings?.observe(jobs[0].settingsVersion);
          if (running) jobs.forEach(runJob);
          else await releaseLeases(db, workerId, jobs.map((j) => j.id));
        } catch (err) {
          log.warn({ err }, 'could not claim jobs; will try again');
        }
      }
      if (running && (claimed === 0 || claimed < free) && !pendingWake) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.pollIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  };
  const looping = loop();
  log.info({ concurrency: options.concurrency }, 'worker started');

  return {
    id: workerId,
    async stop() {
      if (!running) return looping;
      running = false;
      wake?.();
      await looping;
      const settled = Promise.allSettled(inFlight.values());
      const timeout = new Promise((resolve) => setTimeout(resolve, options.shutdownGraceMs).unref());
      await Promise.race([settled, timeout]);
      clearInterval(heartbeat);
      const unfinished = [...inFlight.keys()];
      if (unfinished.length > 0) {
        log.warn({ jobs: unfinished.length }, 'handing back unfinished jobs at shutdown');
        await releaseLeases(db, workerId, unfinished).catch((err: unknown) => log.warn({ err }, 'could not release leases'));
      }
      await listener.close();
      log.info('worker stopped');
    },
  };
}
