import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { createTestCa, type TestCa } from './pki.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as received; only its first `headBytes` bytes when the peer was started with that option. */
  raw: Buffer;
  /** Size of the whole message in bytes (also when `raw` holds only its head). */
  bytes: number;
  /** True when the message came over a TLS-protected session (STARTTLS). */
  secure: boolean;
}

export interface SmtpReply {
  code: number;
  message: string;
}

/** What the peer does; tests change it while it runs. */
export interface PeerBehaviour {
  /** Refuse a recipient at RCPT TO with this reply. */
  rcpt?: (address: string) => SmtpReply | undefined;
  /** Wait this long before answering DATA (to kill a worker mid-delivery). */
  dataDelayMs?: number;
}

export interface SmtpPeer {
  url: string;
  port: number;
  /** PEM file of the CA that issued the peer's certificate (for SMTP_TLS_CA_FILE). */
  caFile: string;
  ca: TestCa;
  /** The peer's own TLS certificate (PEM). */
  certPem: string;
  received: ReceivedMail[];
  behaviour: PeerBehaviour;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** The first received mail addressed to `address` (envelope), waiting for it. */
  mailTo(address: string, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback that offers STARTTLS with a certificate from a
 * CA generated for the test, and keeps what it receives in memory.
 */
export interface SmtpPeerOptions {
  ca?: TestCa;
  port?: number;
  /** Address to listen on (default 127.0.0.1; `::1` for a second MX host on the same port). */
  host?: string;
  /** DNS names the peer's certificate carries (default localhost and 127.0.0.1). */
  hostnames?: string[];
  /** false: the peer does not offer STARTTLS (plaintext only). */
  starttls?: boolean;
  /** PEM of the CA(s) whose client certificates the peer requires during STARTTLS (mutual TLS). */
  clientCa?: string;
  /**
   * Keep only the first `headBytes` bytes of each message in `raw` (the rest is
   * read and counted, not kept): for bulk runs that check headers only, so the
   * peer does not hold every message in memory. Default: keep it all.
   */
  headBytes?: number;
}

export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const ca = options.ca ?? (await createTestCa('SMTP Peer Test CA'));
  const serverCert = await ca.issueServer(options.hostnames?.[0] ?? 'localhost', options.hostnames);
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-smtp-peer-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const received: ReceivedMail[] = [];
  const behaviour: PeerBehaviour = {};
  const waiters = new Set<() => void>();

  const server = new SMTPServer({
    name: 'peer.test',
    key: serverCert.keyPem,
    cert: serverCert.certPem,
    authOptional: true,
    disabledCommands: options.starttls === false ? ['AUTH', 'STARTTLS'] : ['AUTH'],
    ...(options.clientCa && { requestCert: true, rejectUnauthorized: true, ca: options.clientCa }),
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const reply = behaviour.rcpt?.(address.address);
      if (reply) return callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const keep = options.headBytes ?? Infinity;
      let bytes = 0;
      stream.on('data', (c: Buffer) => {
        // A copy of a partial chunk: a view would keep the whole chunk alive.
        if (bytes < keep) chunks.push(bytes + c.length <= keep ? c : Buffer.from(c.subarray(0, keep - bytes)));
        bytes += c.length;
      });
      stream.on('end', () => {
        const accept = () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            bytes,
            secure: session.secure,
          });
          callback(null, `Ok: queued as PEER${received.length}`);
          waiters.forEach((w) => w());
        };
        if (behaviour.dataDelayMs) setTimeout(accept, behaviour.dataDelayMs);
        else accept();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    caFile,
    ca,
    certPem: serverCert.certPem,
    received,
    behaviour,
    waitFor(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(received);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`SMTP peer received ${received.length} of ${count} messages in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async mailTo(address, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = received.find((m) => m.to.includes(address));
        if (mail) return mail;
        if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.add(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
