import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SubmissionMetrics, SubmissionReport } from '../core/submit-message.ts';
import type { Logger } from '../logger.ts';
import type { JobResult } from '../worker/worker.ts';
import type { ProtectionMetrics } from '../worker/protect-message.ts';
import { outboxStates, type OutboxSnapshot } from './outbox-snapshot.ts';
import { jobKinds } from '../outbox/job-kinds.ts';
import type { CertificateExpiry } from './certificate-expiry.ts';
import type { DeliverySettled } from '../worker/deliver-job.ts';
import { portalEvents, type PortalMetrics } from '../portal/portal-metrics.ts';

/**
 * Every Sealpost metric, defined here and nowhere else (docs/operations.md lists
 * them). The core and the worker see only typed methods; prom-client stays in
 * this file. One registry per runtime, never prom-client's global one, so two
 * runtimes in one process (tests) do not share counters.
 */
export interface Metrics extends SubmissionMetrics, ProtectionMetrics, PortalMetrics {
  readonly registry: Registry;
  delivery(outcome: JobResult | 'error', seconds: number): void;
  /** A settled delivery attempt with where it went: the transport route and policy of its delivery record. */
  deliverySettled(settled: DeliverySettled): void;
  /** An evidence job finished (each issues the proofs its message owes, usually one). */
  evidenceJob(outcome: JobResult | 'error'): void;
  /** `route` is the route pattern (`/v1/messages/:id`), undefined when no route matched. */
  httpRequest(request: { method: string; route: string | undefined; statusCode: number; seconds: number }): void;
  /** One signing identity's rollover through the CA hook (src/core/identity-rollover.ts). */
  identityRollover(outcome: 'issued' | 'failed'): void;
}

export interface MetricsOptions {
  /** Reads the outbox at scrape time. */
  readOutbox: () => Promise<OutboxSnapshot>;
  /** Reads signing identities' expiry at scrape time. */
  readCertificateExpiry: () => Promise<CertificateExpiry[]>;
  /** How long one outbox reading answers scrapes, so scrapers never hammer the database. */
  outboxCacheMs?: number;
  log: Logger;
}

const OUTBOX_CACHE_MS = 5000;

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const submissions = new Counter({
    name: 'sealpost_submissions_total',
    help: 'Message submissions by front door, mode and outcome; code is the error code of a refused or failed submission.',
    labelNames: ['door', 'mode', 'outcome', 'code'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'sealpost_deliveries_total',
    help: 'Delivery attempts finished by this process, by outcome (delivered, retrying, failed, skipped, error).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deliveryRoutes = new Counter({
    name: 'sealpost_delivery_outcomes_total',
    help: 'Settled delivery attempts by outcome (delivered, retrying, failed), transport route (mx, relay, sink, none) and transport policy (a recipient domain, default, none).',
    labelNames: ['outcome', 'route', 'policy'] as const,
    registers: [registry],
  });
  const portal = new Counter({
    name: 'sealpost_portal_events_total',
    help: 'Portal events: opened, accepted_by_recipient, refused, expired, login, login_failed, lockout.',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  for (const event of portalEvents) portal.inc({ event }, 0);
  const evidenceJobs = new Counter({
    name: 'sealpost_evidence_jobs_total',
    help: 'Evidence jobs finished by this process, by outcome (done: the owed proofs were issued; retrying: a time-stamp failed; skipped; error).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deliveryDuration = new Histogram({
    name: 'sealpost_delivery_duration_seconds',
    help: 'Time from claiming a delivery job to settling it (render, SMTP hand-over, bookkeeping), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const smimeDuration = new Histogram({
    name: 'sealpost_smime_duration_seconds',
    help: 'Time to sign (sign) or sign and encrypt (sign_encrypt) one recipient copy, certificate lookup included.',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'sealpost_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const rollovers = new Counter({
    name: 'sealpost_identity_rollovers_total',
    help: 'Signing identity rollovers through the CA hook run by this process, by outcome (issued, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const ttl = options.outboxCacheMs ?? OUTBOX_CACHE_MS;
  const snapshot = cachedReader(options.readOutbox, ttl, options.log, 'the outbox');
  const expiry = cachedReader(options.readCertificateExpiry, ttl, options.log, 'certificate expiry');
  new Gauge({
    name: 'sealpost_outbox_jobs',
    help: 'Jobs in the outbox by kind and state: due (waiting for a worker), leased (being worked on), scheduled (a retry or a timed job not yet due).',
    labelNames: ['kind', 'state'] as const,
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const kind of jobKinds) for (const state of outboxStates) this.set({ kind, state }, s.byKind[kind]?.[state] ?? 0);
    },
  });
  new Gauge({
    name: 'sealpost_outbox_oldest_due_job_age_seconds',
    help: 'How long the oldest due, unleased outbox job has been waiting for a worker; 0 when none waits.',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      if (s) this.set(s.oldestDueSeconds);
    },
  });

  new Gauge({
    name: 'sealpost_certificate_expiry_timestamp_seconds',
    help: "When the soonest-expiring certificate of each tenant's kind expires (Unix time); usage=signing covers signing identities not retired.",
    labelNames: ['tenant_id', 'usage'] as const,
    registers: [registry],
    async collect() {
      const rows = await expiry();
      this.reset();
      for (const r of rows ?? []) this.set({ tenant_id: r.tenantId, usage: r.usage }, Math.floor(r.notAfter.getTime() / 1000));
    },
  });

  return {
    registry,
    submission(report: SubmissionReport) {
      submissions.inc({ door: report.door, mode: report.mode, outcome: report.outcome, ...(report.code && { code: report.code }) });
    },
    protection(operation, seconds) {
      smimeDuration.observe({ operation }, seconds);
    },
    delivery(outcome, seconds) {
      deliveries.inc({ outcome });
      deliveryDuration.observe({ outcome }, seconds);
    },
    deliverySettled({ outcome, route, policy }) {
      deliveryRoutes.inc({ outcome, route: route ?? 'none', policy: policy ?? 'none' });
    },
    portalEvent(event) {
      portal.inc({ event });
    },
    evidenceJob(outcome) {
      evidenceJobs.inc({ outcome });
    },
    httpRequest({ method, route, statusCode, seconds }) {
      httpDuration.observe({ method, route: route ?? 'unmatched', status_class: `${Math.floor(statusCode / 100)}xx` }, seconds);
    },
    identityRollover(outcome) {
      rollovers.inc({ outcome });
    },
  };
}

/**
 * One query serves every scrape within the cache period, and concurrent scrapes
 * share the query in flight. A failed reading (database down) is cached too and
 * leaves its gauges without samples rather than failing the scrape.
 */
export function cachedReader<T>(read: () => Promise<T>, ttl: number, log: Logger, what: string): () => Promise<T | undefined> {
  let cached: { at: number; reading: Promise<T | undefined> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= ttl) {
      const reading = read().catch((err: unknown) => {
        log.warn({ err }, `could not read ${what}`);
        return undefined;
      });
      cached = { at: now, reading };
    }
    return cached.reading;
  };
}
