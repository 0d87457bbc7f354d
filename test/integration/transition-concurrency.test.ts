import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionRecipients } from '../../src/core/transition.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';

/**
 * Two workers settle two recipients of one message at the same moment: the
 * second waits for the first's lock on the message and must then see the
 * first's committed change, or the message's summary status goes wrong for good.
 */
describe('concurrent transitions of one message', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({});
  });
  afterAll(async () => {
    await t?.close();
  });

  it('computes the summary from what the transaction it waited for committed', async () => {
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: tenant.auth },
      payload: submission({ to: ['a@example.org', 'b@example.org'] }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const { id, recipients } = res.json() as { id: string; recipients: Array<{ id: string }> };
    const [a, b] = recipients.map((r) => r.id) as [string, string];
    const { db } = t.runtime.database;
    await db.transaction((tx) =>
      transitionRecipients(tx, id, 'test', [a, b].map((r) => ({ recipientId: r, to: 'processing' as const, event: { type: 'processing' as const } }))),
    );

    let first: Promise<unknown> | undefined;
    const firstHoldsLock = new Promise<void>((locked) => {
      first = db.transaction(async (tx) => {
        await transitionRecipients(tx, id, 'test', [{ recipientId: a, to: 'delivered', event: { type: 'delivered' } }]);
        locked();
        await tx.execute(sql`SELECT pg_sleep(0.3)`); // still holding the message lock
      });
    });
    await firstHoldsLock;
    const second = db.transaction((tx) => transitionRecipients(tx, id, 'test', [{ recipientId: b, to: 'failed', event: { type: 'failed' } }]));
    await Promise.all([first, second]);

    const message = await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: tenant.auth } });
    expect(message.json().status).toBe('partially_delivered');
  });
});
