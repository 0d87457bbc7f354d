import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeDataOurselves } from '../../src/transport/smtp-data-hook.ts';
import { classifySmtpError } from '../../src/transport/smtp-outcome.ts';
import { openSession, type SessionTarget, type SmtpSession } from '../../src/transport/smtp-session.ts';
import { createTestCa, type TestCa } from '../support/pki.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

/**
 * What a peer receives after DATA now that Sealpost dot-stuffs the message
 * itself (src/transport/smtp-data.ts) through one hook into nodemailer
 * (src/transport/smtp-data-hook.ts): real smtp-server peers on loopback, STARTTLS
 * with certificates from a CA made here, our client certificate (mutual TLS).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

/** A pino logger whose lines the test can read. */
function capturedLog() {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  return { log, lines };
}

async function mutualTlsPeer(): Promise<{ peer: SmtpPeer; target: SessionTarget }> {
  const clientCa = await createTestCa('Client CA');
  const peer = await startSmtpPeer({ clientCa: clientCa.certPem });
  cleanups.push(() => peer.close());
  const ours = await clientCa.issueClient('sealpost.test');
  const target: SessionTarget = {
    host: '127.0.0.1',
    port: peer.port,
    servername: 'localhost',
    implicitTls: false,
    tls: { required: true, verify: true, ca: peer.ca.certPem, cert: Buffer.from(ours.certPem), key: Buffer.from(ours.keyPem) },
  };
  return { peer, target };
}

const base64Lines = (bytes: number) => randomBytes(bytes).toString('base64').replace(/.{1,76}/g, '$&\r\n');
const envelope = { from: 'sender@example.com', to: 'anna@partner.test' };

describe('the hook into nodemailer (src/transport/smtp-data-hook.ts)', () => {
  it('still finds SMTPConnection#_createSendStream returning a Transform, and encodes the message there', async () => {
    // If this fails after a nodemailer upgrade, nodemailer moved the DATA stream: the hook no longer
    // applies (messages still go out correctly, through nodemailer's slower DataStream); update the hook.
    expect(typeof (SMTPConnection.prototype as unknown as Record<string, unknown>)._createSendStream, 'nodemailer has no SMTPConnection#_createSendStream any more').toBe('function');

    const peer = await startSmtpPeer();
    cleanups.push(() => peer.close());
    const connection = new SMTPConnection({ host: '127.0.0.1', port: peer.port, tls: { ca: peer.ca.certPem }, logger: false });
    connection.on('error', () => {});
    cleanups.push(() => connection.close());
    const hook = encodeDataOurselves(connection);
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    expect(connection.secure).toBe(true);

    const message = Buffer.from('Subject: hook\r\n\r\n.one\r\n..two\r\n.\r\nend');
    const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
      connection.send({ from: envelope.from, to: [envelope.to] }, message, (error, result) => (error ? reject(error) : resolve(result))),
    );
    expect(hook.uses, 'nodemailer sent the message without calling the hook').toBe(1);
    // The bytes on the wire: 3 leading dots doubled, CRLF added, the end line.
    expect(info.messageSize).toBe(message.length + 3 + 2 + 3);
    const [mail] = await peer.waitFor(1);
    expect(mail!.raw.toString('latin1')).toBe(`${message.toString('latin1')}\r\n`);
  });
});

describe('sending over a mutual-TLS session', () => {
  it('delivers the exact bytes: dot lines, "..", a lone ".", no final CRLF, almost empty, > 1 MB, over one session', async () => {
    const { peer, target } = await mutualTlsPeer();
    const { log, lines } = capturedLog();
    const session = await openSession(target, { timeoutMs: 10_000, log });
    cleanups.push(() => session.close());
    expect(session.details.tlsVersion).toMatch(/^TLSv1\.[23]$/);

    const cases: Array<[string, Buffer, Buffer]> = [];
    const same = (name: string, text: string | Buffer) => {
      const message = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
      cases.push([name, message, message]);
    };
    same('dot lines', 'Subject: dots\r\n\r\n.hidden\r\n..two\r\n...three\r\nx.y\r\n');
    same('a lone "." line', 'Subject: lone\r\n\r\nbefore\r\n.\r\nafter\r\n');
    same('starts with "."', '.Subject: odd\r\n\r\nbody\r\n');
    same('headers only', 'Subject: empty\r\n\r\n');
    same('> 1 MB of base64', Buffer.from(`Subject: big\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(1_000_000)}`));
    same('> 1 MB with dot lines', Buffer.from(`Subject: big\r\n\r\n${base64Lines(500_000)}.\r\n..\r\n${base64Lines(500_000)}.last\r\n`));
    const unterminated = Buffer.from('Subject: open\r\n\r\nno line break at the end.', 'latin1');
    cases.push(['no final CRLF (one is added)', unterminated, Buffer.concat([unterminated, Buffer.from('\r\n')])]);
    cases.push(['a single CRLF', Buffer.from('\r\n'), Buffer.from('\r\n')]);

    for (const [, message] of cases) {
      const { response } = await session.send(message, envelope);
      expect(response).toMatch(/^250 /);
    }
    const received = await peer.waitFor(cases.length);
    expect(session.messages).toBe(cases.length);
    cases.forEach(([name, , expected], i) => {
      expect(received[i]!.secure, name).toBe(true);
      expect(received[i]!.raw.equals(expected), `${name}: the peer received other bytes`).toBe(true);
    });
    expect(received[4]!.raw.length).toBeGreaterThan(1024 * 1024);
    expect(lines.join('')).not.toMatch(/nodemailer encoded the message itself/);
  });

  it('turns bare LF into CRLF, as nodemailer did', async () => {
    const { peer, target } = await mutualTlsPeer();
    const session = await openSession(target, { timeoutMs: 10_000, log: pino({ level: 'silent' }) });
    cleanups.push(() => session.close());
    await session.send(Buffer.from('Subject: lf\n\n.dot\nline\n'), envelope);
    const [mail] = await peer.waitFor(1);
    expect(mail!.raw.toString()).toBe('Subject: lf\r\n\r\n.dot\r\nline\r\n');
  });
});

describe('a peer that drops the connection in the middle of DATA', () => {
  async function droppingPeer(ca: TestCa): Promise<{ port: number; drops: () => number }> {
    const cert = await ca.issueServer();
    const sockets = new Set<Socket>();
    let drops = 0;
    const server = new SMTPServer({
      key: cert.keyPem,
      cert: cert.certPem,
      authOptional: true,
      disabledCommands: ['AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        stream.once('data', () => {
          drops++;
          for (const socket of sockets) socket.destroy();
        });
        stream.on('end', () => callback(null, 'too late'));
      },
    });
    server.on('error', () => {});
    server.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.server.address();
    return { port: typeof address === 'object' && address ? address.port : 0, drops: () => drops };
  }

  it('fails the send with a connection error (temporary, no reply code) and leaves the session unusable', async () => {
    const ca = await createTestCa('Dropping Peer CA');
    const peer = await droppingPeer(ca);
    const session: SmtpSession = await openSession(
      { host: '127.0.0.1', port: peer.port, servername: 'localhost', implicitTls: false, tls: { required: true, verify: true, ca: ca.certPem } },
      { timeoutMs: 10_000, log: pino({ level: 'silent' }) },
    );
    cleanups.push(() => session.close());
    const message = Buffer.from(`Subject: cut\r\n\r\n${base64Lines(2_000_000)}`);
    const error = await session.send(message, envelope).then(
      () => undefined,
      (e: unknown) => e as { code?: string; responseCode?: number },
    );
    expect(peer.drops()).toBe(1);
    expect(error, 'the send resolved although the peer dropped the connection').toBeDefined();
    expect(['ECONNECTION', 'ESOCKET']).toContain(error!.code);
    expect(error!.responseCode).toBeUndefined();
    expect(classifySmtpError(error).kind).toBe('temporary');
    expect(session.usable).toBe(false);
    await expect(session.send(Buffer.from('Subject: again\r\n\r\nx\r\n'), envelope)).rejects.toBeDefined();
  });
});
