/**
 * `npx tsx bench/memory.ts`: peak memory of the real server (bench/servers/ours.ts,
 * a child process) for ONE large submission, over SOAP (SubmitMessage, base64 in
 * the envelope) and over REST (JSON), each in a fresh server process. Issue 4,
 * item 6: "a 25 MB base64 attachment is accepted with bounded memory".
 *
 * For each door: start the server on a fresh database, send two small
 * submissions (so lazily loaded code and pools are warm), read VmRSS, send the
 * large one, read VmHWM (the kernel's peak resident set since the process
 * started). Growth = VmHWM after - VmRSS before. Options: --mb N (default 25),
 * --repeat N (default 1: large submissions per server; the peak after the first
 * shows whether memory is given back).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { credentialsOf } from '../test/support/soap.ts';
import { killAllChildrenNow, logTail, projectRoot, startServerChild } from './lib/children.ts';
import { countSealpostRows, createSubmitterKey, runAsMain } from './lib/compare.ts';
import { createDatabase, startDatabaseServer, type DatabaseServer } from './lib/database.ts';
import { gitInfo, loadSnapshot, machineInfo } from './lib/machine.ts';
import { pdfLike, soapSubmission } from './lib/payload.ts';

type Door = 'soap' | 'rest';

interface DoorResult {
  door: Door;
  requestBodyBytes: number;
  status: number;
  seconds: number[];
  rssBeforeMiB: number;
  peakMiB: number[];
  growthMiB: number;
  rssAfterMiB: number;
  committed: number;
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

/** VmRSS / VmHWM of a process, in KiB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

function bodyOf(door: Door, attachment: Buffer, token: string): { path: string; headers: Record<string, string>; body: string } {
  if (door === 'soap') {
    return {
      path: '/soap/v1',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:sealpost:v1/SubmitMessage"' },
      body: soapSubmission(attachment, credentialsOf(token)),
    };
  }
  return {
    path: '/v1/messages',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      mode: 'confidential',
      from: 'payroll@example.com',
      to: ['anna.muster@example.org'],
      subject: 'Payslip November 2026',
      text: 'Dear Anna, your payslip is attached.',
      attachments: [{ filename: 'payslip-2026-11.pdf', contentType: 'application/pdf', content: attachment.toString('base64') }],
    }),
  };
}

async function measureDoor(door: Door, bytes: number, repeat: number, database: DatabaseServer, tempDir: string): Promise<DoorResult> {
  const db = await createDatabase(database.adminUrl, 'sealpost_memory');
  const logFile = join(tempDir, `${door}.log`);
  const dataDir = join(tempDir, `data-${door}`);
  mkdirSync(dataDir, { recursive: true });
  const child = await startServerChild({
    name: door,
    script: 'ours.ts',
    logFile,
    env: { BENCH_DATABASE_URL: db.url, BENCH_DATA_DIR: dataDir, BENCH_POOL_SIZE: '10', BENCH_LOG_LEVEL: 'info' },
  });
  try {
    const token = await createSubmitterKey(db.url);
    const send = async (attachment: Buffer) => {
      const { path, headers, body } = bodyOf(door, attachment, token);
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${child.port}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(120_000) });
      const text = await res.text();
      const expected = door === 'soap' ? 200 : 202;
      if (res.status !== expected) throw new Error(`${door}: answered ${res.status}, not ${expected}: ${text.slice(0, 500)}${logTail(logFile)}`);
      return { status: res.status, seconds: Math.round(performance.now() - started) / 1000, bodyBytes: Buffer.byteLength(body) };
    };
    for (let i = 0; i < 2; i++) await send(pdfLike(200 * 1024));
    await new Promise((r) => setTimeout(r, 500));
    const before = memoryOf(child.pid);
    const large = pdfLike(bytes);
    const seconds: number[] = [];
    const peaks: number[] = [];
    let last = { status: 0, seconds: 0, bodyBytes: 0 };
    for (let i = 0; i < repeat; i++) {
      last = await send(large);
      seconds.push(last.seconds);
      peaks.push(mib(memoryOf(child.pid).hwm));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = memoryOf(child.pid);
    await child.stop();
    const { committed } = await countSealpostRows(db.url);
    return {
      door,
      requestBodyBytes: last.bodyBytes,
      status: last.status,
      seconds,
      rssBeforeMiB: mib(before.rss),
      peakMiB: peaks,
      growthMiB: Math.round((peaks[peaks.length - 1]! - mib(before.rss)) * 10) / 10,
      rssAfterMiB: mib(after.rss),
      committed,
    };
  } finally {
    await child.stop();
    await db.drop().catch(() => {});
  }
}

async function main(): Promise<{ ok: boolean }> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { mb: { type: 'string' }, repeat: { type: 'string' } } });
  const bytes = Math.round(Number(values.mb ?? 25) * 1024 * 1024);
  const repeat = Math.max(1, Math.round(Number(values.repeat ?? 1)));
  const tempDir = mkdtempSync(join(tmpdir(), 'sealpost-memory-'));
  chmodSync(tempDir, 0o755);
  process.on('exit', () => {
    killAllChildrenNow();
    rmSync(tempDir, { recursive: true, force: true });
  });
  const loadAtStart = loadSnapshot();
  const results: DoorResult[] = [];
  let database: DatabaseServer | undefined;
  try {
    database = await startDatabaseServer(tempDir);
    console.log(`one ${bytes} byte attachment (${Math.ceil(bytes / 3) * 4} bytes of base64) per request, ${repeat} request(s) per server; load: ${loadAtStart.uptime}`);
    for (const door of ['soap', 'rest'] as const) {
      const result = await measureDoor(door, bytes, repeat, database, tempDir);
      results.push(result);
      console.log(
        `${door.padEnd(4)}  body ${(result.requestBodyBytes / 1048576).toFixed(1)} MiB  answered ${result.status} in ${result.seconds.join(', ')} s  ` +
          `RSS before ${result.rssBeforeMiB} MiB  peak ${result.peakMiB.join(', ')} MiB  growth +${result.growthMiB} MiB  RSS after ${result.rssAfterMiB} MiB  (${result.committed} messages committed)`,
      );
    }
  } finally {
    killAllChildrenNow();
    await database?.stop().catch(() => {});
  }
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const resultsDir = join(projectRoot, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `memory-${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify({ benchmark: 'memory', attachmentBytes: bytes, repeat, machine: machineInfo(), load: { start: loadAtStart, end: loadSnapshot() }, git: gitInfo(), results }, null, 2) + '\n',
  );
  console.log(`results: ${relative(process.cwd(), file)}`);
  return { ok: results.length === 2 };
}

await runAsMain(main);
