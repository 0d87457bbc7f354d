import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Issued } from './smime-certs.ts';

const run = promisify(execFile);

/** A loopback HTTP server (127.0.0.1 only) whose answers the test sets per path; counts requests. */
export interface LoopbackServer {
  url: string;
  /** Bytes to serve at `path` (200), a status code, or 'hang' (accept and never answer). */
  set(path: string, answer: Buffer | number | 'hang'): void;
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startLoopbackServer(handler?: (req: IncomingMessage, body: Buffer) => Promise<Buffer | number>): Promise<LoopbackServer> {
  const answers = new Map<string, Buffer | number | 'hang'>();
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      const fixed = answers.get(path);
      if (fixed === 'hang') return;
      const answer = fixed !== undefined ? Promise.resolve(fixed) : handler ? handler(req, Buffer.concat(chunks)) : Promise.resolve(404);
      answer.then(
        (a) => (typeof a === 'number' ? res.writeHead(a).end() : res.writeHead(200, { 'content-length': a.length }).end(a)),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    set: (path, answer) => void answers.set(path, answer),
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface OcspEntry {
  cert: Issued['cert'];
  revokedAt?: Date;
}

export interface OcspResponder extends LoopbackServer {
  /** The responder URL (POST). */
  ocspUrl: string;
  /** Rewrites index.txt: the status of each certificate the responder knows. */
  setIndex(entries: OcspEntry[]): Promise<void>;
  requests(): number;
}

/**
 * A real OpenSSL OCSP responder behind a loopback HTTP server: each POSTed
 * request is answered by `openssl ocsp -index … -CA … -rsigner … -reqin -respout`
 * (OpenSSL 3.0's own `-port` listens on every interface, which the tests must
 * not do). `signer` signs the responses: the CA itself, a delegated responder
 * certificate with id-kp-OCSPSigning, or an unrelated one.
 */
export async function startOcspResponder(options: { ca: Issued; signer: Issued; entries: OcspEntry[]; nextUpdateDays?: number }): Promise<OcspResponder> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-ocsp-'));
  const file = (name: string) => join(dir, name);
  await writeFile(file('ca.pem'), options.ca.certPem);
  await writeFile(file('signer.pem'), options.signer.certPem);
  await writeFile(file('signer.key'), options.signer.keyPem, { mode: 0o600 });
  let counter = 0;
  const setIndex = (entries: OcspEntry[]) => writeFile(file('index.txt'), entries.map(indexLine).join(''));
  await setIndex(options.entries);
  const server = await startLoopbackServer(async (req, body) => {
    if (req.method !== 'POST') return 405;
    const n = ++counter;
    await writeFile(file(`req-${n}.der`), body);
    await run(
      'openssl',
      [
        'ocsp', '-index', file('index.txt'), '-CA', file('ca.pem'), '-rsigner', file('signer.pem'), '-rkey', file('signer.key'),
        '-reqin', file(`req-${n}.der`), '-respout', file(`resp-${n}.der`),
        ...(options.nextUpdateDays ? ['-ndays', String(options.nextUpdateDays)] : []),
      ],
      { timeout: 10_000 },
    );
    return readFile(file(`resp-${n}.der`));
  });
  return {
    ...server,
    ocspUrl: `${server.url}/ocsp`,
    setIndex,
    requests: () => server.hits('/ocsp'),
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One line of an OpenSSL CA database: status, expiry, revocation time, serial (hex), file, subject. */
function indexLine({ cert, revokedAt }: OcspEntry): string {
  const serial = cert.serialNumber.toUpperCase();
  return [revokedAt ? 'R' : 'V', asn1Time(cert.notAfter), revokedAt ? `${asn1Time(revokedAt)},keyCompromise` : '', serial.length % 2 ? `0${serial}` : serial, 'unknown', `/${cert.subject.replace(/, /g, '/')}`].join('\t') + '\n';
}

const asn1Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
