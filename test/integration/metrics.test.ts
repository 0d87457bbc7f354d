import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { projectPath } from '../../src/paths.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { credentialsOf, envelope, operation, soapPost, textOf } from '../support/soap.ts';
import { freePort } from '../support/local.ts';
import { exited, spawnWorkerProcess } from '../support/worker-process.ts';
import { portalLinkOf } from './portal-links.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a
 * TYPE or a sample of a family declared by TYPE; label values are quoted and
 * escaped; values are floats. Throws on anything else.
 */
function parsePrometheusText(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
  const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped'], line).toContain(comment[3]);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    let rest = match[2] ?? '';
    while (rest !== '') {
      const l = label.exec(rest);
      if (!l) throw new Error(`bad labels in: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
      rest = rest.slice(l[0].length);
    }
    // Prometheus reads values with Go's ParseFloat, which takes Inf and NaN in any case (prom-client writes "Nan").
    const value = Number(match[3]!.replace(/^([+-]?)inf$/i, '$1Infinity'));
    if (Number.isNaN(value) && !/^nan$/i.test(match[3]!)) throw new Error(`bad value in: ${line}`);
    const family = match[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(match[1]!) && !types.has(family)) throw new Error(`sample without TYPE: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return { types, samples };
}

/** The value of the one sample named `name` whose labels include `labels`; 0 when there is none (a counter not yet moved). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}

describe('/metrics', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let app: FastifyInstance;
  let auth: string;
  let token: string;

  const scrape = async () => {
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return { text: res.body, ...parsePrometheusText(res.body) };
  };
  const submit = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth, ...headers }, payload });

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    // The production wiring (server.ts) passes the runtime's metrics; the shared test app does not serve /metrics.
    app = await buildApp({ config: t.config, core: t.runtime.core, pool: t.runtime.database.pool, log: t.runtime.log, metrics: t.runtime.metrics });
    await app.ready();
    ({ auth, token } = await t.tenant({ senderDomains: ['example.com'] }));
  });
  afterAll(async () => {
    await app?.close();
    await t?.close();
    await peer?.close();
  });

  it('counts submissions, outbox jobs, deliveries and requests by exact amounts', async () => {
    const before = await scrape();
    expect(valueOf(before.samples, 'sealpost_submissions_total')).toBe(0);

    // REST: two accepted (3 recipients), one replay, one refusal.
    const twice = submission({ to: ['anna.muster@example.org', 'later@example.org'] });
    const first = await submit(twice, { 'idempotency-key': 'metrics-1' });
    expect(first.statusCode, first.body).toBe(202);
    const replay = await submit(twice, { 'idempotency-key': 'metrics-1' });
    expect(replay.json().id).toBe(first.json().id);
    const registered = await submit(submission({ mode: 'registered', to: ['refused@example.org'] }));
    expect(registered.statusCode, registered.body).toBe(202);
    const bad = await submit(submission({ to: ['not an address'] }));
    expect(bad.json().code).toBe('invalid_address');
    // SOAP: one accepted.
    const soap = await soapPost(
      app,
      envelope(operation('SubmitMessage', { from: 'payroll@example.com', to: { address: 'soap@example.org' }, subject: 'Via SOAP', text: 'Hello' }), credentialsOf(token)),
      { soapaction: '"urn:sealpost:v1/SubmitMessage"' },
    );
    expect(soap.statusCode, soap.body).toBe(200);
    const ids = [first.json().id, registered.json().id, textOf(soap.body, 'id')!];
    const status = await app.inject({ url: `/v1/messages/${ids[0]}`, headers: { authorization: auth } });
    expect(status.statusCode).toBe(200);
    expect((await app.inject({ url: `/no/such/${ids[1]}` })).statusCode).toBe(404);

    // The outbox reading is cached for a few seconds: wait for one taken after the submissions.
    await expect.poll(async () => valueOf((await scrape()).samples, 'sealpost_outbox_jobs', { kind: 'deliver', state: 'due' }), { timeout: 10_000, interval: 250 }).toBe(4);
    // One evidence job per submission (the SubmissionAcceptance proof), signed by the worker.
    expect(valueOf((await scrape()).samples, 'sealpost_outbox_jobs', { kind: 'evidence', state: 'due' })).toBe(3);
    const queued = await scrape();
    expect(queued.types.get('sealpost_submissions_total')).toBe('counter');
    const sub = (labels: Record<string, string>) => valueOf(queued.samples, 'sealpost_submissions_total', labels);
    expect(sub({ door: 'rest', mode: 'confidential', outcome: 'accepted' })).toBe(1);
    expect(sub({ door: 'rest', mode: 'confidential', outcome: 'replayed' })).toBe(1);
    expect(sub({ door: 'rest', mode: 'registered', outcome: 'accepted' })).toBe(1);
    expect(sub({ door: 'rest', mode: 'confidential', outcome: 'refused', code: 'invalid_address' })).toBe(1);
    expect(sub({ door: 'soap', mode: 'confidential', outcome: 'accepted' })).toBe(1);
    expect(sub({})).toBe(5);
    expect(queued.types.get('sealpost_outbox_jobs')).toBe('gauge');
    expect(valueOf(queued.samples, 'sealpost_outbox_jobs', { state: 'leased' })).toBe(0);
    expect(valueOf(queued.samples, 'sealpost_outbox_jobs', { state: 'scheduled' })).toBe(0);
    expect(valueOf(queued.samples, 'sealpost_outbox_oldest_due_job_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(queued.samples, 'sealpost_deliveries_total')).toBe(0);

    // One recipient refused for good, one refused once for now and accepted on the retry.
    let deferred = false;
    peer.behaviour.rcpt = (address) => {
      if (address === 'refused@example.org') return { code: 550, message: 'no such user' };
      if (address === 'later@example.org' && !deferred) {
        deferred = true;
        return { code: 451, message: 'try again later' };
      }
      return undefined;
    };
    await t.startWorker();
    await peer.waitFor(3);
    const deliveries = (outcome: string) => async () => valueOf((await scrape()).samples, 'sealpost_deliveries_total', { outcome });
    await expect.poll(deliveries('delivered'), { timeout: 15_000 }).toBe(3);
    // Only the registered message's acceptance-period job stays, scheduled a week ahead (docs/modes.md).
    const waiting = (samples: Sample[]) => valueOf(samples, 'sealpost_outbox_jobs') - valueOf(samples, 'sealpost_outbox_jobs', { kind: 'registered_expiry', state: 'scheduled' });
    await expect.poll(async () => waiting((await scrape()).samples), { timeout: 10_000, interval: 250 }).toBe(0);
    expect(valueOf((await scrape()).samples, 'sealpost_outbox_jobs', { kind: 'registered_expiry', state: 'scheduled' })).toBe(1);

    const after = await scrape();
    expect(valueOf(after.samples, 'sealpost_deliveries_total', { outcome: 'failed' })).toBe(1);
    expect(valueOf(after.samples, 'sealpost_deliveries_total', { outcome: 'retrying' })).toBe(1);
    expect(valueOf(after.samples, 'sealpost_deliveries_total')).toBe(5);
    expect(after.types.get('sealpost_delivery_duration_seconds')).toBe('histogram');
    expect(valueOf(after.samples, 'sealpost_delivery_duration_seconds_count', { outcome: 'delivered' })).toBe(3);
    expect(valueOf(after.samples, 'sealpost_delivery_duration_seconds_count')).toBe(5);
    expect(valueOf(after.samples, 'sealpost_outbox_oldest_due_job_age_seconds')).toBe(0);
    // The same attempts by where they went: all through SMTP_URL (a relay) under the default policy.
    expect(after.types.get('sealpost_delivery_outcomes_total')).toBe('counter');
    const routed = (labels: Record<string, string>) => valueOf(after.samples, 'sealpost_delivery_outcomes_total', labels);
    expect(routed({ outcome: 'delivered', route: 'relay', policy: 'default' })).toBe(3);
    expect(routed({ outcome: 'retrying', route: 'relay', policy: 'default' })).toBe(1);
    expect(routed({ outcome: 'failed', route: 'relay', policy: 'default' })).toBe(1);
    expect(routed({})).toBe(5);
    // Evidence: one job per submission and one per settled delivery or failure (4 delivered + failed recipients).
    await expect.poll(async () => valueOf((await scrape()).samples, 'sealpost_evidence_jobs_total', { outcome: 'done' }), { timeout: 10_000, interval: 250 }).toBeGreaterThanOrEqual(3);

    // The portal: the confidential copy's link, opened twice; only the first open is an event.
    expect(valueOf(after.samples, 'sealpost_portal_events_total', { event: 'opened' })).toBe(0);
    const notification = peer.received.find((m) => m.to.includes('anna.muster@example.org'))!;
    const { token: link } = await portalLinkOf(notification);
    for (let i = 0; i < 2; i++) expect((await app.inject({ method: 'POST', url: `/r/${link}/open` })).statusCode).toBe(303);
    const portal = await scrape();
    expect(valueOf(portal.samples, 'sealpost_portal_events_total', { event: 'opened' })).toBe(1);
    expect(valueOf(portal.samples, 'sealpost_portal_events_total')).toBe(1);
    expect(valueOf(portal.samples, 'sealpost_portal_events_total', { event: 'lockout' })).toBe(0);

    // HTTP: route patterns, never URLs; the unmatched request has no route.
    const http = (labels: Record<string, string>) => valueOf(after.samples, 'sealpost_http_request_duration_seconds_count', labels);
    expect(http({ method: 'POST', route: '/v1/messages', status_class: '2xx' })).toBe(3); // the replay answers 200
    expect(http({ method: 'POST', route: '/v1/messages', status_class: '4xx' })).toBe(1);
    expect(http({ method: 'POST', route: '/soap/v1', status_class: '2xx' })).toBe(1);
    expect(http({ method: 'GET', route: '/v1/messages/:id', status_class: '2xx' })).toBe(1);
    expect(http({ method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(1);
    for (const id of ids) expect(after.text).not.toContain(id);
    expect(after.text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    // Node's default metrics go into the same registry.
    expect(after.types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('lists in docs/operations.md exactly the sealpost_ metrics it serves', async () => {
    const served = [...(await scrape()).types.keys()].filter((n) => n.startsWith('sealpost_')).sort();
    const doc = readFileSync(projectPath('docs', 'operations.md'), 'utf8');
    const documented = [...new Set([...doc.matchAll(/^\| `(sealpost_[a-z_]+)` \|/gm)].map((m) => m[1]!))].sort();
    expect(served).toEqual(documented);
  });
});

describe('METRICS_PORT on a standalone worker', () => {
  let peer: SmtpPeer;
  let t: TestApp;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('serves the worker process\'s delivery metrics on their own port', async () => {
    const port = await freePort();
    const worker = spawnWorkerProcess(t.config, { METRICS_PORT: String(port) });
    try {
      const scrape = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(res.status).toBe(200);
        return parsePrometheusText(await res.text()).samples;
      };
      await expect.poll(() => scrape().then(() => true, () => false), { timeout: 20_000, interval: 250 }).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(404);

      const { auth } = await t.tenant({ senderDomains: ['example.com'] });
      const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: submission() });
      expect(res.statusCode, res.body).toBe(202);
      await peer.waitFor(1);
      await expect.poll(async () => valueOf(await scrape(), 'sealpost_deliveries_total', { outcome: 'delivered' }), { timeout: 10_000 }).toBe(1);
      // Submissions were counted by the process that took them, not by the worker.
      expect(valueOf(await scrape(), 'sealpost_submissions_total')).toBe(0);
    } finally {
      worker.kill('SIGTERM');
      await exited(worker);
    }
  });
});
