import { jobKinds } from '../../src/outbox/job-kinds.ts';
import type { JobHandlers } from '../../src/worker/worker.ts';

/**
 * A handler for every job kind that leaves its jobs alone (they come back after
 * the lease): for worker tests that care about a few kinds only, so adding a
 * kind does not break them. Spread first, then the handlers under test.
 */
export const untouchedKinds = (): JobHandlers => Object.fromEntries(jobKinds.map((kind) => [kind, async () => 'skipped' as const])) as unknown as JobHandlers;
