import { completeJob } from '../../src/outbox/complete.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { portalDeliverySettings } from '../../src/portal/links.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { untouchedKinds } from '../support/job-handlers.ts';
import { startWorker, type Worker } from '../../src/worker/worker.ts';
import { deliverJob } from '../../src/worker/deliver-job.ts';
import { createSmtpTransport } from '../../src/transport/smtp-transport.ts';

/** Several workers on one database split the outbox between them and never deliver a job twice. */
describe('three workers draining one outbox', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let auth: string;
  const workers: Worker[] = [];
  const transports: Array<{ close(): void }> = [];

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    ({ auth } = await t.tenant());
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    transports.forEach((tr) => tr.close());
    await t?.close();
    await peer?.close();
  });

  it('delivers 40 recipients once each, spread over the workers', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { authorization: auth },
        payload: submission({ to: [`a${i}@example.org`, `b${i}@example.org`] }),
      });
      expect(res.statusCode).toBe(202);
    }
    const { config, runtime } = t;
    for (let i = 0; i < 3; i++) {
      const transport = createSmtpTransport({ url: config.SMTP_URL!, caFile: config.SMTP_TLS_CA_FILE, timeoutMs: 10_000, maxConnections: 2, log: runtime.log });
      transports.push(transport);
      workers.push(
        startWorker(
          {
            ...untouchedKinds(),
            deliver: (job, log) =>
              deliverJob(
                {
                  db: runtime.database.db,
                  cipher: runtime.cipher,
                  smime: () => {
                    throw new Error('no signing identity in this test');
                  },
                  transport,
                  workerId: `w${i}`,
                  messageIdDomain: config.MESSAGE_ID_DOMAIN,
                  backoff: { baseSeconds: 1, maxSeconds: 2 },
                  retryWindowSeconds: 3600,
                  portal: portalDeliverySettings(config),
                },
                job,
                log,
              ),
            // Evidence is not what this test is about (test/integration/evidence-*.test.ts): settle its jobs.
            evidence: async (job) => {
              await completeJob(runtime.database.db, job.id);
              return 'done';
            },
          },
          {
            db: runtime.database.db,
            workerId: `w${i}`,
            databaseUrl: runtime.database.url,
            concurrency: 2,
            pollIntervalMs: 100,
            leaseSeconds: 30,
            shutdownGraceMs: 5000,
            log: runtime.log,
          },
        ),
      );
    }
    await peer.waitFor(40, 30_000);
    await new Promise((r) => setTimeout(r, 300)); // room for a double delivery to show up
    expect(peer.received).toHaveLength(40);
    const ids = await Promise.all(peer.received.map(async (m) => (await simpleParser(m.raw)).messageId));
    expect(new Set(ids).size).toBe(40);

    const { rows } = await t.runtime.database.pool.query<{ worker: string; n: number }>(
      `SELECT detail->>'worker' AS worker, count(*)::int AS n FROM events WHERE type = 'processing' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(40);
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });
});
