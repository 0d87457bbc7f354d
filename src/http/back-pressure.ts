import type pg from 'pg';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../logger.ts';
import { cachedReader } from '../observability/metrics.ts';
import type { OutboxSnapshot } from '../observability/outbox-snapshot.ts';

export interface BackPressureLimits {
  /** Due jobs (waiting for a worker) above which submissions are refused; 0: no limit. */
  maxDueJobs: number;
  /** Age of the oldest due job above which submissions are refused; 0: no limit. */
  maxDueAgeSeconds: number;
  /** Requests waiting for a database connection above which submissions are refused; 0: no limit. */
  maxDatabaseWaiting: number;
  /** How long one outbox reading serves. */
  checkIntervalMs: number;
}

/** Seconds to suggest: the pool drains in moments, a lagging outbox in minutes. */
const RETRY_AFTER_POOL = 2;
const RETRY_AFTER_OUTBOX = 30;

/**
 * Refuses new submissions with 503 `overloaded` while delivery lags behind (too
 * many due jobs, or the oldest waiting too long) or the database pool is
 * saturated, so a burst queues in the callers' retry loops instead of in this
 * process's memory. Reads are never refused here.
 *
 * Cheap on purpose: the pool is looked at without a query, and one outbox
 * reading (the query behind the outbox metrics) serves every submission for
 * `checkIntervalMs`. A reading that fails (database down) lets submissions
 * through: they then fail on their own with `unavailable`.
 */
export class BackPressure {
  private readonly readOutbox: () => Promise<OutboxSnapshot | undefined>;

  constructor(
    private readonly limits: BackPressureLimits,
    private readonly pool: Pick<pg.Pool, 'waitingCount'>,
    readOutbox: () => Promise<OutboxSnapshot>,
    log: Logger,
  ) {
    this.readOutbox = cachedReader(readOutbox, limits.checkIntervalMs, log, 'the outbox for back-pressure');
  }

  /** Throws `overloaded` when a submission should not be taken now. */
  async assertAcceptingSubmissions(): Promise<void> {
    const { maxDueJobs, maxDueAgeSeconds, maxDatabaseWaiting } = this.limits;
    const waiting = this.pool.waitingCount;
    if (maxDatabaseWaiting > 0 && waiting > maxDatabaseWaiting) {
      throw overloaded('database_waiting', `${waiting} requests are waiting for a database connection`, RETRY_AFTER_POOL);
    }
    if (maxDueJobs === 0 && maxDueAgeSeconds === 0) return;
    const outbox = await this.readOutbox();
    if (!outbox) return;
    if (maxDueJobs > 0 && outbox.due > maxDueJobs) {
      throw overloaded('outbox_due_jobs', `${outbox.due} outbox jobs are waiting for a worker (limit ${maxDueJobs})`, RETRY_AFTER_OUTBOX);
    }
    if (maxDueAgeSeconds > 0 && outbox.oldestDueSeconds > maxDueAgeSeconds) {
      throw overloaded(
        'outbox_due_age',
        `the oldest waiting delivery has waited ${Math.round(outbox.oldestDueSeconds)} s for a worker (limit ${maxDueAgeSeconds} s)`,
        RETRY_AFTER_OUTBOX,
      );
    }
  }
}

const overloaded = (reason: string, why: string, retryAfterSeconds: number) =>
  new AppError('overloaded', `not taking new messages right now: ${why}; nothing was stored, retry later`, { reason, retryAfterSeconds });
