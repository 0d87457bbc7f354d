import type { Db } from '../db/client.ts';
import { expireUndecided } from '../core/portal-acceptance.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import type { JobResult } from '../worker/worker.ts';
import type { PortalMetrics } from './portal-metrics.ts';

/**
 * The `registered_expiry` job, due when a registered copy's acceptance period
 * ends: expires the recipient if still undecided (src/core/portal-acceptance.ts),
 * or waits for a newer link's end.
 */
export async function expiryJob(deps: { db: Db; metrics?: PortalMetrics }, job: ClaimedJob, log: Logger): Promise<JobResult> {
  if (!job.messageId || !job.recipientId) {
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  const outcome = await expireUndecided(deps.db, job.messageId, job.recipientId);
  if (typeof outcome === 'object') {
    await rescheduleJob(deps.db, job.id, Math.max(1, Math.ceil((outcome.notBefore.getTime() - Date.now()) / 1000)));
    return 'skipped';
  }
  if (outcome === 'expired') {
    log.info('registered message expired unaccepted');
    deps.metrics?.portalEvent('expired');
  }
  await completeJob(deps.db, job.id);
  return 'done';
}
