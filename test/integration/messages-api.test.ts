import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';

/** The REST surface around a stored message: idempotency, reading, listing, the logbook, cancelling. No worker runs. */
describe('/v1/messages', () => {
  let t: TestApp;
  let a: Awaited<ReturnType<TestApp['tenant']>>;
  let b: Awaited<ReturnType<TestApp['tenant']>>;
  let auditorA: string;

  beforeAll(async () => {
    t = await createTestApp();
    a = await t.tenant({ senderDomains: ['example.com'] });
    b = await t.tenant();
    auditorA = await t.key(a.tenantId, 'auditor');
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (auth: string, body: Record<string, unknown> = submission(), headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth, ...headers }, payload: body });
  const get = (auth: string, url: string) => t.app.inject({ url, headers: { authorization: auth } });
  const cancel = (auth: string, id: string) => t.app.inject({ method: 'DELETE', url: `/v1/messages/${id}`, headers: { authorization: auth } });
  async function submit(auth: string, body?: Record<string, unknown>): Promise<{ id: string; createdAt: string; recipients: Array<{ id: string }> }> {
    const res = await post(auth, body);
    expect(res.statusCode, res.body).toBe(202);
    return res.json();
  }
  async function count(table: 'messages' | 'recipients' | 'outbox' | 'events', where: string, value: string): Promise<number> {
    // Delivery jobs only: each submission and outcome also queues an evidence job (docs/evidence.md).
    const deliverOnly = table === 'outbox' ? " AND kind = 'deliver'" : '';
    const { rows } = await t.runtime.database.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where} = $1${deliverOnly}`, [value]);
    return rows[0].n;
  }
  const expectError = (res: { statusCode: number; json(): unknown; body: string }, status: number, code: string) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toMatchObject({ code, message: expect.any(String), details: expect.any(Object) });
  };

  describe('Idempotency-Key', () => {
    it('answers a repeated submission with the first message, stored once', async () => {
      const key = 'payslip-2026-11-0042';
      const body = submission(); // one body: submission() draws fresh attachment bytes each time
      const first = await post(a.auth, body, { 'idempotency-key': key });
      expect(first.statusCode, first.body).toBe(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      const again = await post(a.auth, body, { 'idempotency-key': key });
      expect(again.statusCode, again.body).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      expect(await count('messages', 'idempotency_key', key)).toBe(1);
      expect(await count('outbox', 'message_id', first.json().id)).toBe(1);
      expect(await count('events', 'message_id', first.json().id)).toBe(1);
    });

    it('refuses the same key with a different submission', async () => {
      const key = 'payslip-2026-11-0043';
      const original = await post(a.auth, submission({ subject: 'Payslip November' }), { 'idempotency-key': key });
      expect(original.statusCode).toBe(202);
      const changed = await post(a.auth, submission({ subject: 'Payslip December' }), { 'idempotency-key': key });
      expectError(changed, 409, 'idempotency_conflict');
      expect(changed.json().details.messageId).toBe(original.json().id);
      expect(await count('messages', 'idempotency_key', key)).toBe(1);
    });

    it('keeps each tenant’s keys to itself', async () => {
      const key = 'shared-key-1';
      const body = submission();
      const mine = await post(a.auth, body, { 'idempotency-key': key });
      const theirs = await post(b.auth, body, { 'idempotency-key': key });
      expect([mine.statusCode, theirs.statusCode]).toEqual([202, 202]);
      expect(theirs.headers['idempotent-replayed']).toBeUndefined();
      expect(theirs.json().id).not.toBe(mine.json().id);
      expect(await count('messages', 'idempotency_key', key)).toBe(2);
    });
  });

  describe('GET /v1/messages/{id}', () => {
    it('shows the message and its recipients, to submitters and auditors', async () => {
      const sent = await submit(a.auth, submission({ to: ['anna@example.org'], cc: ['hr@example.org'], reference: 'PAY-7', mode: 'registered' }));
      for (const auth of [a.auth, auditorA]) {
        const res = await get(auth, `/v1/messages/${sent.id}`);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({
          id: sent.id,
          status: 'accepted',
          mode: 'registered',
          from: 'payroll@example.com',
          reference: 'PAY-7',
          recipients: [
            { address: 'anna@example.org', kind: 'to', status: 'accepted', attempts: 0, deliveredAt: null },
            { address: 'hr@example.org', kind: 'cc', status: 'accepted', attempts: 0, deliveredAt: null },
          ],
        });
      }
      expect((await get(a.auth, `/v1/messages/${sent.id.toUpperCase()}`)).json().id).toBe(sent.id);
    });

    it('is 404 for an unknown id, a malformed id and another tenant’s message', async () => {
      const theirs = await submit(b.auth);
      for (const id of [randomUUID(), 'not-a-uuid', '1', theirs.id]) {
        expectError(await get(a.auth, `/v1/messages/${id}`), 404, 'not_found');
      }
      expect((await get(b.auth, `/v1/messages/${theirs.id}`)).statusCode).toBe(200);
    });
  });

  describe('GET /v1/messages', () => {
    let c: Awaited<ReturnType<TestApp['tenant']>>;
    const sent: Array<{ id: string; createdAt: string }> = [];

    beforeAll(async () => {
      c = await t.tenant();
      for (let i = 0; i < 7; i++) {
        sent.push(await submit(c.auth, submission({ reference: `R-${i}` })));
        await new Promise((resolve) => setTimeout(resolve, 3)); // distinct submission instants
      }
    });
    const list = async (query: string) => {
      const res = await get(c.auth, `/v1/messages?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { items: Array<{ id: string; status: string }>; nextCursor: string | null };
    };
    const newestFirst = (items: Array<{ id: string }>) => [...items].reverse().map((m) => m.id);

    it('pages through every message exactly once, newest first', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(`limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        seen.push(...page.items.map((m) => m.id));
        sizes.push(page.items.length);
        cursor = page.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual(newestFirst(sent));
    });

    it('defaults to one page of up to 50 and shows only the caller’s messages', async () => {
      const page = await list('');
      expect(page.nextCursor).toBeNull();
      expect(page.items.map((m) => m.id)).toEqual(newestFirst(sent));
    });

    it('filters by submission time, inclusive', async () => {
      const page = await list(`since=${encodeURIComponent(sent[4]!.createdAt)}`);
      expect(page.items.map((m) => m.id)).toEqual(newestFirst(sent.slice(4)));
    });

    it('filters by status', async () => {
      const [x, y] = [sent[1]!, sent[5]!];
      expect((await cancel(c.auth, x.id)).statusCode).toBe(200);
      expect((await cancel(c.auth, y.id)).statusCode).toBe(200);
      expect((await list('status=cancelled')).items.map((m) => m.id)).toEqual([y.id, x.id]);
      const accepted = await list('status=accepted&limit=10');
      expect(accepted.items.map((m) => m.id)).toEqual(newestFirst(sent.filter((m) => m !== x && m !== y)));
      expect((await list('status=delivered')).items).toEqual([]);
    });

    it.each([
      ['a cursor it did not issue', 'cursor=bm90LWEtY3Vyc29y', 'invalid_field'],
      ['a cursor that is not base64url JSON', 'cursor=%%%', 'invalid_field'],
      ['an unknown status', 'status=lost', 'invalid_field'],
      ['a since that is not a date', 'since=yesterday', 'invalid_field'],
      ['limit 0', 'limit=0', 'invalid_field'],
      ['limit 201', 'limit=201', 'invalid_field'],
      ['a limit that is not a number', 'limit=ten', 'invalid_field'],
      ['an unknown parameter', 'sort=asc', 'unknown_field'],
    ])('refuses %s with 422', async (_case, query, code) => {
      expectError(await get(c.auth, `/v1/messages?${query}`), 422, code);
    });
  });

  describe('GET /v1/messages/{id}/events', () => {
    it('starts with the submitted event, readable by the auditor', async () => {
      const sent = await submit(a.auth, submission({ to: ['anna@example.org', 'ben@example.org'] }));
      const res = await get(auditorA, `/v1/messages/${sent.id}/events`);
      expect(res.statusCode, res.body).toBe(200);
      const [first, ...rest] = res.json().items;
      expect(rest).toEqual([]);
      expect(first).toMatchObject({
        type: 'submitted',
        recipientId: null,
        actor: `key:${a.keyId}`,
        detail: { via: 'rest', mode: 'confidential', recipients: 2 },
      });
      expect((await get(a.auth, `/v1/messages/${sent.id}/events`)).json()).toEqual(res.json());
    });

    it('is 404 for another tenant’s message', async () => {
      const sent = await submit(a.auth);
      expectError(await get(b.auth, `/v1/messages/${sent.id}/events`), 404, 'not_found');
      expectError(await get(b.auth, `/v1/messages/${randomUUID()}/events`), 404, 'not_found');
    });
  });

  describe('DELETE /v1/messages/{id}', () => {
    it('cancels a message still waiting for delivery, once', async () => {
      const sent = await submit(a.auth, submission({ to: ['anna@example.org'], cc: ['hr@example.org'] }));
      expect(await count('outbox', 'message_id', sent.id)).toBe(2);

      const res = await cancel(a.auth, sent.id);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: sent.id, status: 'cancelled', recipients: [{ status: 'cancelled' }, { status: 'cancelled' }] });
      expect((await get(a.auth, `/v1/messages/${sent.id}`)).json()).toEqual(res.json());
      expect(await count('outbox', 'message_id', sent.id)).toBe(0);
      const events = (await get(a.auth, `/v1/messages/${sent.id}/events`)).json().items;
      expect(events.map((e: { type: string }) => e.type)).toEqual(['submitted', 'cancelled', 'cancelled']);
      expect(events.slice(1).map((e: { recipientId: string }) => e.recipientId).sort()).toEqual(sent.recipients.map((r) => r.id).sort());

      expectError(await cancel(a.auth, sent.id), 409, 'not_cancellable');
      expect(await count('events', 'message_id', sent.id)).toBe(3);
    });

    it('refuses once any recipient’s delivery has started, and changes nothing', async () => {
      const sent = await submit(a.auth, submission({ to: ['anna@example.org', 'ben@example.org'] }));
      await t.runtime.database.pool.query(`UPDATE recipients SET status = 'processing' WHERE id = $1`, [sent.recipients[0]!.id]);
      const res = await cancel(a.auth, sent.id);
      expectError(res, 409, 'not_cancellable');
      expect(res.json().details.recipients).toEqual([{ id: sent.recipients[0]!.id, status: 'processing' }]);
      expect((await get(a.auth, `/v1/messages/${sent.id}`)).json().recipients.map((r: { status: string }) => r.status)).toEqual([
        'processing',
        'accepted',
      ]);
      expect(await count('outbox', 'message_id', sent.id)).toBe(2);
      expect(await count('events', 'message_id', sent.id)).toBe(1);
    });

    it('is 404 for another tenant and 403 for an auditor, leaving the message as it was', async () => {
      const sent = await submit(a.auth);
      expectError(await cancel(b.auth, sent.id), 404, 'not_found');
      expectError(await cancel(auditorA, sent.id), 403, 'forbidden');
      expectError(await cancel(a.auth, randomUUID()), 404, 'not_found');
      expect((await get(a.auth, `/v1/messages/${sent.id}`)).json().status).toBe('accepted');
      expect(await count('outbox', 'message_id', sent.id)).toBe(1);
      expect(await count('events', 'message_id', sent.id)).toBe(1);
    });
  });
});
