import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startRolloverCheck } from '../../src/worker/rollover-check.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createSmimeCa } from '../support/smime-certs.ts';

describe('signing identity rollover warning', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('logs every identity within a week of expiry, and none further out', async () => {
    const ca = await createSmimeCa();
    const day = 86_400_000;
    const soon = await ca.issueUser('Soon', { emails: ['payroll@soon.example'], notAfter: new Date(Date.now() + 3 * day) });
    const later = await ca.issueUser('Later', { emails: ['payroll@later.example'], notAfter: new Date(Date.now() + 60 * day) });
    const admin = await t.tenant({ role: 'admin' });
    const call = async (url: string, payload: object) => {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization: admin.auth }, payload });
      expect(res.statusCode, res.body).toBe(201);
    };
    await call('/v1/trust-anchors', { certificate: ca.root.certPem });
    for (const user of [soon, later]) await call('/v1/identities', { certificate: user.certPem, privateKey: user.keyPem, chain: ca.intermediate.certPem });

    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
    const rollover = startRolloverCheck(t.runtime.database.db, log, 60_000);
    await rollover.check();
    await rollover.stop();

    const warnings = lines.filter((l) => l.msg === 'signing identity expires soon: import its successor');
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(new Set(warnings.map((w) => w.scope))).toEqual(new Set(['payroll@soon.example']));
    expect(warnings[0]).toMatchObject({ tenantId: admin.tenantId, daysLeft: 2 });
  });
});
