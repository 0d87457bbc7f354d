import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, asc, eq, sql } from 'drizzle-orm';
import { createSettingsCache } from '../../src/core/settings-cache.ts';
import { transitionRecipients } from '../../src/core/transition.ts';
import { evidence, events, outbox } from '../../src/db/schema.ts';
import { evidenceJob, type EvidenceDeps } from '../../src/evidence/evidence-job.ts';
import { isEvidenceWorthy } from '../../src/evidence/event-mapping.ts';
import { loadServiceEvidenceIdentity } from '../../src/evidence/service-identity.ts';
import { createLogger } from '../../src/logger.ts';
import { claimDueJobs, type ClaimedJob } from '../../src/outbox/claim.ts';
import { EVIDENCE_GATHER_SECONDS } from '../../src/outbox/enqueue.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';

/**
 * Evidence jobs of one message can run side by side (a job claimed while the
 * next event queued another; a job run again after its lease expired; several
 * workers at once). They write without a lock: whoever loses the race on the
 * chain's unique indexes reads again. The chain must come out whole: one proof
 * per event, sequences 1..n, each link naming the digest of the one before.
 *
 * And a message has at most one evidence job no worker has claimed: later
 * changes owing evidence leave it to that job (src/outbox/enqueue.ts).
 */
describe('evidence jobs of one message running concurrently', () => {
  let t: TestApp;
  let deps: EvidenceDeps;
  let messageId: string;

  /** Submits a message to `to` through the REST door; its id and its recipients' ids. */
  const submit = async (to: string[]) => {
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to }) });
    expect(res.statusCode, res.body).toBe(202);
    return res.json() as { id: string; recipients: Array<{ id: string }> };
  };

  beforeAll(async () => {
    t = await createTestApp();
    const submitted = await submit(['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org', 'e@example.org', 'f@example.org']);
    messageId = submitted.id;
    const db = t.runtime.database.db;
    // Every recipient settles, each change owing a proof of its own.
    for (const r of submitted.recipients) {
      for (const to of ['processing', 'delivered'] as const) {
        await db.transaction((tx) => transitionRecipients(tx, messageId, 'test', [{ recipientId: r.id, to, event: { type: to } }]));
      }
    }
    const log = createLogger('silent', 'stderr');
    const serviceIdentity = loadServiceEvidenceIdentity({ dataDir: t.config.DATA_DIR }, log);
    deps = {
      db,
      cipher: t.runtime.cipher,
      pki: { ...t.runtime.core, settings: createSettingsCache() },
      messageIdDomain: t.config.MESSAGE_ID_DOMAIN,
      policyId: t.config.EVIDENCE_POLICY_ID,
      mailReceipts: t.config.EVIDENCE_MAIL_RECEIPTS,
      serviceIdentity: () => serviceIdentity,
    };
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('issues one chained proof per event, however many jobs race for it', async () => {
    const db = t.runtime.database.db;
    const jobs = await db.select().from(outbox).where(eq(outbox.messageId, messageId));
    const evidenceJobs = jobs.filter((j) => j.kind === 'evidence');
    // The submission's job, not yet claimed, took in the six changes that owe evidence too (src/outbox/enqueue.ts).
    expect(evidenceJobs).toHaveLength(1);
    const claimed = (j: (typeof jobs)[number]): ClaimedJob => ({
      id: j.id,
      kind: 'evidence',
      messageId,
      recipientId: null,
      payload: {},
      attempts: 1,
      reclaimed: false,
      settingsVersion: 0,
    });
    // Fourteen runs of it at once, as workers holding expired leases, one after another, would run it.
    const log = createLogger('silent', 'stderr');
    const results = await Promise.all(Array.from({ length: 14 }, () => evidenceJob(deps, claimed(evidenceJobs[0]!), log)));
    expect(new Set(results)).toEqual(new Set(['done']));

    const worthy = (await db.select().from(events).where(eq(events.messageId, messageId)).orderBy(asc(events.id))).filter((e) =>
      isEvidenceWorthy(e.type),
    );
    expect(worthy).toHaveLength(1 + 6);
    const chain = await db.select().from(evidence).where(eq(evidence.messageId, messageId)).orderBy(asc(evidence.sequence));
    expect(chain.map((p) => p.sequence)).toEqual(worthy.map((_, i) => i + 1));
    expect(new Set(chain.map((p) => p.eventId))).toEqual(new Set(worthy.map((e) => e.id)));
    chain.forEach((link, i) => expect(link.previousSha256.toString('hex')).toBe(i === 0 ? '00'.repeat(32) : chain[i - 1]!.sha256.toString('hex')));
    const left = await db.select().from(outbox).where(eq(outbox.messageId, messageId));
    expect(left.filter((j) => j.kind === 'evidence')).toEqual([]);
  });

  it('leaves later evidence to the job not yet claimed, and queues a new one once it is claimed', async () => {
    const db = t.runtime.database.db;
    const {
      id,
      recipients: [first, second],
    } = await submit(['g@example.org', 'h@example.org']);
    const evidenceJobs = () =>
      db
        .select({ id: outbox.id, attempts: outbox.attempts, wait: sql<number>`extract(epoch from ${outbox.runAt} - ${outbox.createdAt})::float8` })
        .from(outbox)
        .where(and(eq(outbox.messageId, id), eq(outbox.kind, 'evidence')))
        .orderBy(asc(outbox.id));
    const settle = (recipientId: string) =>
      db.transaction(async (tx) => {
        for (const to of ['processing', 'delivered'] as const) await transitionRecipients(tx, id, 'test', [{ recipientId, to, event: { type: to } }]);
      });

    const [queued] = await evidenceJobs();
    expect(queued).toEqual({ id: expect.any(Number), attempts: 0, wait: EVIDENCE_GATHER_SECONDS });
    await settle(first!.id);
    expect(await evidenceJobs()).toEqual([queued]);

    // Claimed (as a worker claims it once it is due), it may have read already: the next change queues a job of its own.
    await db.update(outbox).set({ runAt: sql`now() - interval '1 second'` }).where(eq(outbox.id, queued!.id));
    const claimed = (await claimDueJobs(db, 'test', 1_000, 60)).find((j) => j.id === queued!.id)!;
    expect(claimed.attempts).toBe(1);
    await settle(second!.id);
    const [, again] = await evidenceJobs();
    expect(again).toEqual({ id: expect.any(Number), attempts: 0, wait: EVIDENCE_GATHER_SECONDS });

    // The claimed job issues all three; the new one finds nothing left and goes.
    const log = createLogger('silent', 'stderr');
    expect(await evidenceJob(deps, claimed, log)).toBe('done');
    expect(await evidenceJob(deps, { ...claimed, id: again!.id, attempts: 1 }, log)).toBe('done');
    const chain = await db.select().from(evidence).where(eq(evidence.messageId, id)).orderBy(asc(evidence.sequence));
    expect(chain.map((p) => p.type)).toEqual(['SubmissionAcceptance', 'ContentConsignment', 'ContentConsignment']);
    expect(await evidenceJobs()).toEqual([]);
  });
});
