import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, asc } from 'drizzle-orm';
import { createSettingsCache } from '../../src/core/settings-cache.ts';
import { transitionRecipients } from '../../src/core/transition.ts';
import { evidence, events, outbox } from '../../src/db/schema.ts';
import { evidenceJob, type EvidenceDeps } from '../../src/evidence/evidence-job.ts';
import { isEvidenceWorthy } from '../../src/evidence/event-mapping.ts';
import { loadServiceEvidenceIdentity } from '../../src/evidence/service-identity.ts';
import { createLogger } from '../../src/logger.ts';
import type { ClaimedJob } from '../../src/outbox/claim.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';

/**
 * Evidence jobs of one message run side by side (a worker claims the
 * `submitted` and `delivered` jobs of a message in one batch; several workers
 * run at once). They write without a lock: whoever loses the race on the
 * chain's unique indexes reads again. The chain must come out whole: one proof
 * per event, sequences 1..n, each link naming the digest of the one before.
 */
describe('evidence jobs of one message running concurrently', () => {
  let t: TestApp;
  let deps: EvidenceDeps;
  let messageId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: tenant.auth },
      payload: submission({ to: ['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org', 'e@example.org', 'f@example.org'] }),
    });
    expect(res.statusCode, res.body).toBe(202);
    messageId = res.json().id;
    const db = t.runtime.database.db;
    // Every recipient settles, each change owing a proof (and an evidence job) of its own.
    for (const r of res.json().recipients as Array<{ id: string }>) {
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
    expect(evidenceJobs).toHaveLength(1 + 6); // submitted, then one per delivered copy
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
    // Each job twice, as a second worker holding an expired lease would run it.
    const log = createLogger('silent', 'stderr');
    const results = await Promise.all([...evidenceJobs, ...evidenceJobs].map((j) => evidenceJob(deps, claimed(j), log)));
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
});
