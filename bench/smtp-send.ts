/**
 * `npx tsx bench/smtp-send.ts`: main-thread CPU per message handed over SMTP
 * (issue 6). One mutual-TLS session to a loopback smtp-server peer that runs in
 * its own process (so its CPU is not counted), SMTP_SEND_MESSAGES (200) messages
 * of about 380 KB of base64 S/MIME each, sent one after the other. Two ways:
 *
 * - `sealpost`: the product path, `createSmtpTransport` under a `mutual-tls`
 *   policy (client identity files, session pool, our DATA encoding);
 * - `nodemailer`: a bare nodemailer SMTPConnection with the same TLS settings
 *   (certificate and key read once) and nodemailer's own DataStream.
 *
 * Rounds alternate (sealpost, nodemailer, sealpost, …) after a warm-up.
 * Reports per message: the main thread's CPU (/proc/thread-self/schedstat, ns)
 * and the whole process's (process.cpuUsage, all threads). Writes
 * bench/results/smtp-send-<timestamp>.json. Settings: SMTP_SEND_MESSAGES,
 * SMTP_SEND_ROUNDS (3), SMTP_SEND_KB (285: raw size before base64), SMTP_SEND_WAYS
 * (both: "sealpost,nodemailer").
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { createSmtpTransport } from '../src/transport/smtp-transport.ts';
import { createTestCa } from '../test/support/pki.ts';
import { startSmtpPeer } from '../test/support/smtp-peer.ts';
import { gitInfo, loadSnapshot, machineInfo } from './lib/machine.ts';
import { writeResultFile } from './lib/results.ts';
import { intSetting } from './lib/settings.ts';

interface PeerReady {
  port: number;
  caFile: string;
  certFile: string;
  keyFile: string;
}

if (process.argv[2] === '--peer') void runPeer();
else
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );

/** The child: a peer requiring a client certificate from a CA made here; answers 'digest' with the last message's SHA-256. */
async function runPeer(): Promise<void> {
  const clientCa = await createTestCa('Bench Client CA');
  const peer = await startSmtpPeer({ clientCa: clientCa.certPem });
  const client = await clientCa.issueClient('sealpost.bench');
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-smtp-send-'));
  writeFileSync(join(dir, 'client.crt'), client.certPem);
  writeFileSync(join(dir, 'client.key'), client.keyPem);
  let count = 0;
  let last = '';
  const trim = setInterval(() => {
    const mails = peer.received.splice(0);
    count += mails.length;
    if (mails.length) last = createHash('sha256').update(mails[mails.length - 1]!.raw).digest('hex');
  }, 20);
  process.on('message', (m: string) => {
    if (m === 'digest') {
      const mails = peer.received.splice(0);
      count += mails.length;
      if (mails.length) last = createHash('sha256').update(mails[mails.length - 1]!.raw).digest('hex');
      process.send!({ count, last });
    }
    if (m === 'stop') {
      clearInterval(trim);
      void peer.close().then(() => process.exit(0));
    }
  });
  process.send!({ port: peer.port, caFile: peer.caFile, certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') } satisfies PeerReady);
}

function message(rawBytes: number): Buffer {
  const head =
    'From: sender@example.com\r\nTo: anna@partner.test\r\nSubject: bench\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename=smime.p7m\r\n\r\n';
  const body = randomBytes(rawBytes).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return Buffer.from(head + body, 'latin1');
}

const threadNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);

async function main(): Promise<number> {
  const startedAt = new Date();
  const settings = {
    messages: intSetting('SMTP_SEND_MESSAGES', 200),
    rounds: intSetting('SMTP_SEND_ROUNDS', 3),
    rawKb: intSetting('SMTP_SEND_KB', 285),
  };
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--peer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const ready = await new Promise<PeerReady>((resolve) => child.once('message', (m) => resolve(m as PeerReady)));
  const ask = () => new Promise<{ count: number; last: string }>((resolve) => {
    child.once('message', (m) => resolve(m as { count: number; last: string }));
    child.send('digest');
  });
  const raw = message(settings.rawKb * 1024);
  const log = pino({ level: 'silent' });
  const url = `smtp://127.0.0.1:${ready.port}`;
  const envelope = { from: 'sender@example.com', to: 'anna@partner.test' };

  const transport = createSmtpTransport({
    url,
    caFile: ready.caFile,
    defaultPolicy: { source: 'default', mode: 'mutual-tls', route: 'mx', business: true, clientCertFile: ready.certFile, clientKeyFile: ready.keyFile },
    timeoutMs: 10_000,
    maxConnections: 1,
    log,
  });
  const sealpost = async () => {
    const outcome = await transport.send(raw, envelope);
    if (outcome.kind !== 'delivered') throw new Error(`sealpost path: ${outcome.kind} ${'reason' in outcome ? outcome.reason : ''}`);
  };

  const connection = new SMTPConnection({
    host: '127.0.0.1',
    port: ready.port,
    socketTimeout: 10_000,
    tls: { ca: readFileSync(ready.caFile), cert: readFileSync(ready.certFile), key: readFileSync(ready.keyFile), minVersion: 'TLSv1.2' },
    logger: false,
  });
  connection.on('error', () => {});
  await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
  const plain = () =>
    new Promise<void>((resolve, reject) => connection.send({ from: envelope.from, to: [envelope.to] }, raw, (error) => (error ? reject(error) : resolve())));

  const only = process.env.SMTP_SEND_WAYS?.split(',');
  const ways = Object.fromEntries(Object.entries({ sealpost, nodemailer: plain }).filter(([name]) => !only || only.includes(name)));
  const expected = createHash('sha256').update(raw).digest('hex');
  for (const [name, send] of Object.entries(ways)) {
    for (let i = 0; i < 20; i++) await send();
    const { last } = await ask();
    if (last !== expected) throw new Error(`${name}: the peer received other bytes than the message`);
  }

  const samples: Array<{ way: string; round: number; mainThreadUsPerMessage: number; processUsPerMessage: number }> = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [name, send] of Object.entries(ways)) {
      const cpu0 = process.cpuUsage();
      const t0 = threadNs();
      for (let i = 0; i < settings.messages; i++) await send();
      const main = (threadNs() - t0) / 1000 / settings.messages;
      const cpu = process.cpuUsage(cpu0);
      const all = (cpu.user + cpu.system) / settings.messages;
      samples.push({ way: name, round, mainThreadUsPerMessage: Math.round(main), processUsPerMessage: Math.round(all) });
      console.log(`${name.padEnd(10)} round ${round}: main thread ${(main / 1000).toFixed(3)} ms/msg, process ${(all / 1000).toFixed(3)} ms/msg`);
    }
  }
  const { count, last } = await ask();
  if (last !== expected) throw new Error('the peer received other bytes than the message');
  transport.close();
  connection.quit();
  child.send('stop');

  const median = (way: string, key: 'mainThreadUsPerMessage' | 'processUsPerMessage') => {
    const values = samples.filter((s) => s.way === way).map((s) => s[key]).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
  const summary = Object.keys(ways).map((way) => ({ way, mainThreadUsPerMessage: median(way, 'mainThreadUsPerMessage'), processUsPerMessage: median(way, 'processUsPerMessage') }));
  console.table(summary);
  const file = writeResultFile('smtp-send', startedAt, {
    benchmark: 'smtp-send',
    startedAt: startedAt.toISOString(),
    settings: { ...settings, messageBytes: raw.length },
    machine: machineInfo(),
    load: loadSnapshot(),
    git: gitInfo(),
    received: count,
    samples,
    summary,
  });
  console.log(`results: ${file}`);
  return 0;
}
