import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { createTestCa } from '../../test/support/pki.ts';

/** What the peer keeps of one received copy: no content, only what reconciliation needs. */
export interface ReceivedCopy {
  /** ms since the peer started (performance.now()). */
  at: number;
  bytes: number;
  /** True when the session was TLS-protected (STARTTLS). */
  secure: boolean;
  /** A portal notification (`X-Sealpost-Notification`) rather than the content itself. */
  notification: boolean;
  /** SHA-256 of the base64 text (line breaks removed) of the first `application/pdf` part, if any. */
  attachmentSha256?: string;
}

export interface DigestSmtpPeer {
  url: string;
  port: number;
  /** PEM of the CA that issued the peer's certificate (SMTP_TLS_CA_FILE); undefined without TLS. */
  caFile?: string;
  /** Copies by Message-ID (`<…>` as sent). */
  copies: Map<string, ReceivedCopy[]>;
  /** Messages without a Message-ID header. */
  readonly withoutMessageId: number;
  readonly received: number;
  readonly isUp: boolean;
  /** Goes away: open sessions get 421 and are closed, new connections are refused, nothing half-received is kept. */
  down(): Promise<void>;
  /** Comes back on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An SMTP server on loopback for bulk runs (bench/soak.ts): offers STARTTLS with
 * a certificate from a CA generated for the run (`tls`), keeps a digest of each
 * message instead of its bytes, and can be taken down and brought back on the
 * same port. A message counts as received only when its 250 reply is sent: one
 * that is still being received when the peer goes down is refused with 421, so
 * the sender retries and no copy is counted that the sender never saw accepted.
 */
export async function startDigestSmtpPeer(options: { dir: string; tls: boolean }): Promise<DigestSmtpPeer> {
  const copies = new Map<string, ReceivedCopy[]>();
  const counts = { received: 0, withoutMessageId: 0 };
  let tls: { key: string; cert: string } | undefined;
  let caFile: string | undefined;
  if (options.tls) {
    const ca = await createTestCa('Sealpost Soak SMTP Peer CA');
    const issued = await ca.issueServer('localhost');
    tls = { key: issued.keyPem, cert: issued.certPem };
    caFile = join(options.dir, 'smtp-peer-ca.pem');
    writeFileSync(caFile, ca.certPem);
  }

  let accepting = false;
  const listen = async (port: number): Promise<SMTPServer> => {
    const server = new SMTPServer({
      name: 'peer.soak.test',
      ...(tls && { key: tls.key, cert: tls.cert }),
      disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      authOptional: true,
      logger: false,
      closeTimeout: 1,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (!accepting) return callback(Object.assign(new Error('peer.soak.test going down'), { responseCode: 421 }));
          const raw = Buffer.concat(chunks);
          const head = raw.subarray(0, 16_384).toString('latin1');
          const messageId = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(head)?.[1];
          counts.received++;
          const copy: ReceivedCopy = {
            at: performance.now(),
            bytes: raw.length,
            secure: session.secure,
            notification: /^X-Sealpost-Notification:/im.test(head),
            attachmentSha256: pdfPartDigest(raw),
          };
          if (messageId) copies.set(messageId, [...(copies.get(messageId) ?? []), copy]);
          else counts.withoutMessageId++;
          callback(null, `Ok: queued as SOAK${counts.received}`);
        });
      },
    });
    server.on('error', () => {});
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.server.once('error', reject);
          server.listen(port, '127.0.0.1', () => {
            server.server.off('error', reject);
            resolve();
          });
        });
        accepting = true;
        return server;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  let server: SMTPServer | undefined = await listen(0);
  const port = (server.server.address() as { port: number }).port;
  const close = async () => {
    accepting = false;
    const closing = server;
    server = undefined;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    ...(caFile && { caFile }),
    copies,
    get withoutMessageId() {
      return counts.withoutMessageId;
    },
    get received() {
      return counts.received;
    },
    get isUp() {
      return server !== undefined;
    },
    down: close,
    async up() {
      if (!server) server = await listen(port);
    },
    close,
  };
}

/** SHA-256 of the base64 body (line breaks removed) of the first `Content-Type: application/pdf` part. */
function pdfPartDigest(raw: Buffer): string | undefined {
  const type = raw.indexOf('\r\nContent-Type: application/pdf', 0, 'latin1');
  if (type < 0) return undefined;
  const bodyStart = raw.indexOf('\r\n\r\n', type, 'latin1');
  if (bodyStart < 0) return undefined;
  const bodyEnd = raw.indexOf('\r\n--', bodyStart + 4, 'latin1');
  const body = raw.subarray(bodyStart + 4, bodyEnd < 0 ? raw.length : bodyEnd).toString('latin1').replace(/[\r\n]/g, '');
  return createHash('sha256').update(body).digest('hex');
}

/** The digest `pdfPartDigest` yields for an attachment sent as these bytes. */
export function attachmentDigest(content: Buffer): string {
  return createHash('sha256').update(content.toString('base64')).digest('hex');
}
