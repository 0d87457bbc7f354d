/**
 * `npm run bench:smime`: sign+encrypt throughput of src/smime against a
 * process-per-message `openssl cms -sign | openssl cms -encrypt` pipeline, on the
 * same rendered payslips (about 200 KB and 2 MB), in one run. See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { createSmimePool, signThenEncrypt, type Recipient, type Signer } from '../src/smime/index.ts';
import { splitMessage } from '../src/smime/header-split.ts';
import { renderMessage } from '../src/mime/render-message.ts';
import { run, scratch } from '../test/support/openssl-cms.ts';
import { createSmimeTestCa } from '../test/support/smime-ca.ts';
import { projectRoot } from './lib/children.ts';
import { gitInfo, loadSnapshot, machineInfo } from './lib/machine.ts';
import { pdfLike } from './lib/payload.ts';

const SIZES = [
  { name: '200KB', attachmentBytes: 150 * 1024, maxMessages: 1500, maxSeconds: 10, target: 3 },
  { name: '2MB', attachmentBytes: 1536 * 1024, maxMessages: 400, maxSeconds: 12, target: 2 },
];
const cores = availableParallelism();

interface Phase {
  mode: string;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  peakRssBytes?: number;
  note: string;
}

/** Runs `one` with `concurrency` in flight until `maxMessages` or `maxSeconds`, sampling this process's RSS. */
async function measure(mode: string, note: string, concurrency: number, maxMessages: number, maxSeconds: number, one: () => Promise<number | void>): Promise<Phase> {
  let peakRss = process.memoryUsage.rss();
  let childPeak = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  let done = 0;
  let issued = 0;
  const lane = async () => {
    while (issued < maxMessages && performance.now() < deadline) {
      issued++;
      const rss = await one();
      if (typeof rss === 'number') childPeak = Math.max(childPeak, rss);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const phase = { mode, messages: done, seconds: round(seconds), messagesPerSecond: round(done / seconds), peakRssBytes: childPeak || peakRss, note };
  console.log(`  ${mode.padEnd(12)} ${String(phase.messagesPerSecond).padStart(8)} msg/s  (${done} in ${phase.seconds} s, peak RSS ${mib(phase.peakRssBytes)})  ${note}`);
  return phase;
}

/** One openssl pipeline for one message, as a separate process tree; resolves with its peak RSS (GNU time %M) when available. */
function opensslPipeline(script: string, input: Buffer): Promise<number | void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', 'sh', '-c', script], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`openssl pipeline failed (${code}): ${stderr}`));
      resolve(Number(stderr.trim().split('\n').at(-1)) * 1024 || undefined);
    });
    child.stdin.end(input);
  });
}

const round = (n: number) => Math.round(n * 100) / 100;
const mib = (n?: number) => (n ? `${(n / 1048576).toFixed(0)} MiB` : 'n/a');

async function main() {
  const startedAt = new Date();
  const loadAtStart = loadSnapshot();
  console.log(`bench:smime on ${cores} cores; load at start: ${loadAtStart.uptime}`);
  const ca = await createSmimeTestCa('Sealpost Bench CA');
  const sender = await ca.issueSmime('Payroll', 'payroll@example.com');
  const recipient = await ca.issueSmime('Anna Muster', 'anna.muster@example.org');
  const signer: Signer = { certificate: sender.certPem, privateKey: sender.privateKey };
  // The recipient and the sender's archive copy, as the pipeline will do.
  const recipients: Recipient[] = [{ certificate: recipient.certPem }, { certificate: sender.certPem }];
  const files = await scratch();
  const pool = createSmimePool();
  const results: Array<{ size: string; messageBytes: number; phases: Phase[]; ratio: number; target: number; ok: boolean }> = [];
  try {
    const [sc, sk, rc] = await Promise.all([files.file('s.crt', sender.certPem), files.file('s.key', sender.keyPem), files.file('r.crt', recipient.certPem)]);
    const script = `openssl cms -sign -md sha256 -signer ${sc} -inkey ${sk} | openssl cms -encrypt -aes256 -recip ${rc} -recip ${sc}`;
    for (const size of SIZES) {
      const message = await renderMessage({
        messageId: 'bench-1',
        recipient: { id: 'r-1' },
        from: { address: 'payroll@example.com', name: 'Payroll' },
        to: [{ address: 'anna.muster@example.org', name: 'Anna Muster' }],
        cc: [],
        content: { subject: 'Payslip November 2026', text: 'Dear Anna, your payslip is attached.', attachments: [] },
        attachments: [{ filename: 'payslip-2026-11.pdf', contentType: 'application/pdf', content: pdfLike(size.attachmentBytes) }],
        submittedAt: new Date(),
        messageIdDomain: 'example.com',
      });
      // openssl signs what we sign: the body entity (outer headers are kept outside by both).
      const entity = Buffer.concat(splitMessage(message).entity);
      console.log(`\n${size.name}: rendered message ${message.length} bytes`);
      const check = await run('sh', ['-c', script], entity);
      if (check.code !== 0) throw new Error(`openssl pipeline does not work here: ${check.stderr}`);
      for (let i = 0; i < cores * 2; i++) await pool.signThenEncrypt(message, signer, recipients); // warm-up: threads started, JIT warm

      const phases = [
        await measure('in-process', 'main thread, one at a time (before: no pool)', 1, size.maxMessages, size.maxSeconds, () => signThenEncrypt(message, signer, recipients).then(() => {})),
        await measure('pool', `worker_threads pool of ${pool.size}, ${pool.size * 4} in flight`, pool.size * 4, size.maxMessages, size.maxSeconds, () => pool.signThenEncrypt(message, signer, recipients).then(() => {})),
        await measure('openssl', `process per message, ${cores} in parallel; peak RSS of one pipeline`, cores, size.maxMessages, size.maxSeconds, () => opensslPipeline(script, entity)),
      ];
      const ratio = round(phases[1]!.messagesPerSecond / phases[2]!.messagesPerSecond);
      const ok = ratio >= size.target;
      console.log(`  ratio pool/openssl: ${ratio}x (target >= ${size.target}x) ${ok ? 'PASS' : 'MISS'}`);
      results.push({ size: size.name, messageBytes: message.length, phases, ratio, target: size.target, ok });
    }
  } finally {
    await pool.close();
    await files.remove();
  }
  const loadAtEnd = loadSnapshot();
  console.log(`\nload at end: ${loadAtEnd.uptime}`);
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const dir = join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `smime-${stamp}.json`);
  const ok = results.every((r) => r.ok);
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: 'smime',
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        ok,
        settings: { sizes: SIZES, signer: 'RSA-2048, SHA-256', recipients: 'RSA-2048 x2 (recipient + sender copy), RSAES-PKCS1-v1_5, AES-256-CBC' },
        machine: machineInfo(),
        load: { start: loadAtStart, end: loadAtEnd },
        git: gitInfo(),
        results,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results: ${relative(process.cwd(), file)}`);
  if (!ok) process.exitCode = 1;
}

await main();
