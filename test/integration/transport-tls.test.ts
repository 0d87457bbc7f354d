import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { freePort } from '../support/local.ts';
import { createTestCa, type TestCa } from '../support/pki.ts';
import { startSmtpPeer, type SmtpPeer, type SmtpPeerOptions } from '../support/smtp-peer.ts';

/**
 * Direct MX delivery under transport policies, against real smtp-server peers on
 * loopback speaking STARTTLS with certificates from a CA made here, found through
 * a DNS server on loopback: TLS enforced and mutual, host name checks, failover,
 * retries, and the delivery record in the logbook.
 */
type Event = { type: string; recipientId: string | null; detail: Record<string, unknown> };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

interface World {
  t: TestApp;
  ca: TestCa;
  dns: DnsServer;
  peer: SmtpPeer;
  admin: string;
  submitter: string;
  put(domain: string, body: Record<string, unknown>): Promise<void>;
  submit(to: string[]): Promise<string>;
  settled(id: string, status: string): Promise<{ status: string; recipients: Array<{ id: string; address: string; status: string; lastError: string | null; attempts: number }> }>;
  events(id: string): Promise<Event[]>;
}

/** One MX peer for `mx1.example.test` (unless `peer.hostnames` says otherwise) and domains whose MX it is. */
async function world(options: { peer?: SmtpPeerOptions; env?: Record<string, string>; zone?: Parameters<typeof startDnsServer>[0]; port?: number } = {}): Promise<World> {
  const ca = options.peer?.ca ?? (await createTestCa('MX Test CA'));
  const port = options.port ?? (await freePort());
  const peer = await startSmtpPeer({ hostnames: ['mx1.example.test'], ...options.peer, ca, port });
  cleanups.push(() => peer.close());
  const mxTo = (host: string) => ({ mx: [{ preference: 10, exchange: host }] });
  const dns = await startDnsServer({
    'mx1.example.test': { a: ['127.0.0.1'] },
    'strict.test': mxTo('mx1.example.test'),
    'loose.test': mxTo('mx1.example.test'),
    'partner.test': mxTo('mx1.example.test'),
    'stranger.test': mxTo('mx1.example.test'),
    ...options.zone,
  });
  cleanups.push(() => dns.close());
  const t = await createTestApp({
    smtp: peer,
    env: { SMTP_URL: '', DELIVERY_ROUTE: 'mx', DNS_SERVERS: dns.server, MX_PORT: String(port), SMTP_TIMEOUT_MS: '5000', ...options.env },
  });
  cleanups.push(() => t.close());
  const tenant = await t.tenant({ role: 'admin', senderDomains: ['example.com'] });
  const submitter = await t.key(tenant.tenantId, 'submitter');
  const w: World = {
    t,
    ca,
    dns,
    peer,
    admin: tenant.auth,
    submitter,
    async put(domain, body) {
      const res = await t.app.inject({ method: 'PUT', url: `/v1/transport-policies/${domain}`, headers: { authorization: tenant.auth }, payload: body });
      expect(res.statusCode, res.body).toBeLessThan(300);
    },
    async submit(to) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: submitter }, payload: submission({ to }) });
      expect(res.statusCode, res.body).toBe(202);
      return res.json().id as string;
    },
    async settled(id, status) {
      const get = async () => (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: submitter } })).json();
      await expect.poll(async () => (await get()).status, { timeout: 25_000, interval: 150 }).toBe(status);
      return get();
    },
    async events(id) {
      return (await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: submitter } })).json().items;
    },
  };
  return w;
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256.toLowerCase();

describe('MX delivery under transport policies', () => {
  it('delivers under enforced-tls and records MX host, IP, TLS version, cipher, peer fingerprint, reply and queue id', async () => {
    const w = await world();
    await w.put('strict.test', { policy: 'enforced-tls', caPem: w.ca.certPem });
    await w.t.startWorker();
    const id = await w.submit(['anna@strict.test']);
    await w.settled(id, 'delivered');
    const mail = await w.peer.mailTo('anna@strict.test');
    expect(mail.secure).toBe(true);
    const delivered = (await w.events(id)).find((e) => e.type === 'delivered')!;
    expect(delivered.detail.record).toMatchObject({
      route: 'mx',
      policy: 'strict.test',
      mxHost: 'mx1.example.test',
      ip: '127.0.0.1',
      port: w.peer.port,
      tlsVersion: expect.stringMatching(/^TLSv1\.[23]$/),
      cipher: expect.any(String),
      peerCertificateSha256: fingerprint(w.peer.certPem),
      peerCertificateVerified: true,
      queueId: 'PEER1',
      response: expect.stringMatching(/^250 /),
    });
    expect(w.dns.queries).toContain('MX strict.test');
  });

  it('refuses a peer without STARTTLS under enforced-tls (permanent, exact reason) and uses it in plaintext under opportunistic', async () => {
    const w = await world({ peer: { starttls: false } });
    await w.put('strict.test', { policy: 'enforced-tls', caPem: w.ca.certPem });
    await w.t.startWorker();
    const strict = await w.submit(['anna@strict.test']);
    const loose = await w.submit(['bob@loose.test']);
    const failed = await w.settled(strict, 'failed');
    expect(failed.recipients[0]!.lastError).toMatch(/^tls_required: mx1\.example\.test \(127\.0\.0\.1:\d+\) did not offer STARTTLS/);
    expect(failed.recipients[0]!.attempts).toBe(1);
    const event = (await w.events(strict)).find((e) => e.type === 'failed')!;
    expect(event.detail).toMatchObject({ code: 'tls_required', permanent: true, record: { mxHost: 'mx1.example.test', ip: '127.0.0.1' } });

    await w.settled(loose, 'delivered');
    expect(w.peer.received.map((m) => [m.to[0], m.secure])).toEqual([['bob@loose.test', false]]);
    const record = (await w.events(loose)).find((e) => e.type === 'delivered')!.detail.record as Record<string, unknown>;
    expect(record).toMatchObject({ policy: 'default', mxHost: 'mx1.example.test' });
    expect(record.tlsVersion).toBeUndefined();
  });

  it('refuses a peer whose certificate is for another host name under enforced-tls, not under opportunistic', async () => {
    const w = await world({ peer: { hostnames: ['other.example.net'] } });
    await w.put('strict.test', { policy: 'enforced-tls', caPem: w.ca.certPem });
    await w.t.startWorker();
    const strict = await w.submit(['anna@strict.test']);
    const loose = await w.submit(['bob@loose.test']);
    const failed = await w.settled(strict, 'failed');
    expect(failed.recipients[0]!.lastError).toMatch(/^tls_certificate_invalid: .*ERR_TLS_CERT_ALTNAME_INVALID/);
    await w.settled(loose, 'delivered');
    const record = (await w.events(loose)).find((e) => e.type === 'delivered')!.detail.record as Record<string, unknown>;
    expect(record).toMatchObject({ peerCertificateVerified: false, tlsVersion: expect.stringMatching(/^TLSv1/) });
    expect(w.peer.received.map((m) => m.to[0])).toEqual(['bob@loose.test']);
  });

  it('refuses a peer whose certificate does not chain to the pinned CA', async () => {
    const w = await world();
    const otherCa = await createTestCa('Some Other CA');
    await w.put('strict.test', { policy: 'enforced-tls', caPem: otherCa.certPem });
    await w.t.startWorker();
    const id = await w.submit(['anna@strict.test']);
    const failed = await w.settled(id, 'failed');
    expect(failed.recipients[0]!.lastError).toMatch(/^tls_certificate_invalid: /);
    expect(w.peer.received).toHaveLength(0);
  });

  it('presents our client certificate under mutual-tls: a peer requiring one accepts ours and refuses an unknown one', async () => {
    const clientCa = await createTestCa('Partner Client CA');
    const w = await world({ peer: { clientCa: clientCa.certPem } });
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-mtls-'));
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const ours = await clientCa.issueClient('sealpost.example.com');
    const unknown = await (await createTestCa('Unknown CA')).issueClient('sealpost.example.com');
    await w.put('partner.test', {
      policy: 'mutual-tls',
      caPem: w.ca.certPem,
      business: true,
      clientCertFile: write('ours.crt', ours.certPem),
      clientKeyFile: write('ours.key', ours.keyPem),
    });
    await w.put('stranger.test', {
      policy: 'mutual-tls',
      caPem: w.ca.certPem,
      clientCertFile: write('unknown.crt', unknown.certPem),
      clientKeyFile: write('unknown.key', unknown.keyPem),
    });
    await w.t.startWorker();
    const accepted = await w.submit(['anna@partner.test']);
    const refused = await w.submit(['bob@stranger.test']);
    await w.settled(accepted, 'delivered');
    const failed = await w.settled(refused, 'failed');
    expect(failed.recipients[0]!.lastError).toMatch(/^tls_client_certificate_refused: mx1\.example\.test .* refused our TLS client certificate/);
    expect(w.peer.received.map((m) => [m.to[0], m.secure])).toEqual([['anna@partner.test', true]]);
  });

  it('fails over to the next MX host when the preferred one is unreachable', async () => {
    const w = await world({
      zone: {
        'failover.test': { mx: [{ preference: 20, exchange: 'mx2.example.test' }, { preference: 10, exchange: 'mx1.example.test' }] },
        // mx1 answers on ::1, where nothing listens; mx2 is the peer.
        'mx1.example.test': { aaaa: ['::1'] },
        'mx2.example.test': { a: ['127.0.0.1'] },
      },
      peer: { hostnames: ['mx2.example.test'] },
    });
    await w.put('failover.test', { policy: 'enforced-tls', caPem: w.ca.certPem });
    await w.t.startWorker();
    const id = await w.submit(['anna@failover.test']);
    await w.settled(id, 'delivered');
    const events = await w.events(id);
    expect(events.filter((e) => e.type === 'retry_scheduled')).toHaveLength(0);
    expect(events.find((e) => e.type === 'delivered')!.detail.record).toMatchObject({ mxHost: 'mx2.example.test', ip: '127.0.0.1' });
    expect(w.dns.queries).toEqual(expect.arrayContaining(['MX failover.test', 'AAAA mx1.example.test', 'A mx2.example.test']));
  });

  it('delivers to the domain itself (A record) when it has no MX (RFC 5321 §5.1), and fails a domain that does not exist', async () => {
    const w = await world({ zone: { 'implicit.test': { a: ['127.0.0.1'] } }, peer: { hostnames: ['implicit.test'] } });
    await w.t.startWorker();
    const implicit = await w.submit(['anna@implicit.test']);
    const missing = await w.submit(['bob@no-such-domain.test']);
    await w.settled(implicit, 'delivered');
    const failed = await w.settled(missing, 'failed');
    expect(failed.recipients[0]!.lastError).toMatch(/^unroutable: the domain no-such-domain\.test does not exist/);
  });

  it('retries a 4xx until it is accepted, fails a 5xx at once, and writes one delayed event after the warning time', async () => {
    const w = await world({ env: { DELIVERY_DELAY_WARNING_SECONDS: '1' } });
    let refusals = 0;
    w.peer.behaviour.rcpt = (address) => {
      if (address === 'gone@loose.test') return { code: 550, message: '5.1.1 mailbox unavailable' };
      if (address === 'busy@loose.test' && refusals++ < 3) return { code: 451, message: '4.3.0 try again later' };
      return undefined;
    };
    await w.t.startWorker();
    const busy = await w.submit(['busy@loose.test']);
    const gone = await w.submit(['gone@loose.test']);
    const failed = await w.settled(gone, 'failed');
    expect(failed.recipients[0]).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/550/) });
    const delivered = await w.settled(busy, 'delivered');
    expect(delivered.recipients[0]!.attempts).toBe(4);
    const events = await w.events(busy);
    expect(events.filter((e) => e.type === 'retry_scheduled')).toHaveLength(3);
    const delayed = events.filter((e) => e.type === 'delayed');
    expect(delayed).toHaveLength(1);
    expect(delayed[0]!.detail).toMatchObject({ responseCode: 451, warningSeconds: 1 });
    expect(w.peer.received.map((m) => m.to[0])).toEqual(['busy@loose.test']);
  });

  it('keeps a message while the peer is down and delivers it once the peer is back', async () => {
    const port = await freePort();
    const w = await world({ port });
    await w.peer.close();
    await w.t.startWorker();
    const id = await w.submit(['anna@loose.test']);
    await expect.poll(async () => (await w.events(id)).filter((e) => e.type === 'retry_scheduled').length, { timeout: 15_000, interval: 150 }).toBeGreaterThanOrEqual(1);
    const retry = (await w.events(id)).find((e) => e.type === 'retry_scheduled')!;
    expect(retry.detail).toMatchObject({ record: { mxHost: 'mx1.example.test', port } });
    const back = await startSmtpPeer({ hostnames: ['mx1.example.test'], ca: w.ca, port });
    cleanups.push(() => back.close());
    await w.settled(id, 'delivered');
    expect(back.received.map((m) => m.to[0])).toEqual(['anna@loose.test']);
  });
});
