import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { logTail, trackChild } from './children.ts';
import { processMemory } from './machine.ts';
import { sealpostBin, stopProcess } from './sealpost-cli.ts';

/** A child that ended without being asked to: a crash, unless it happened while starting against a database that was down. */
export interface UnexpectedExit {
  slot: string;
  pid: number;
  code: number | null;
  signal: string | null;
  at: string;
  logTail: string;
}

/**
 * One long-running `sealpost` process role (`api0`, `worker2` …) across its
 * incarnations: started, killed with SIGKILL or stopped on purpose, and
 * restarted by the caller; an exit nobody asked for is recorded and the role
 * restarted once a second later (at most `maxCrashRestarts` times). Memory is the
 * highest VmHWM/VmRSS seen over all incarnations, read from /proc before every
 * deliberate kill or stop and whenever `sampleMemory` is called.
 */
export interface ProcessSlot {
  readonly name: string;
  readonly pid: number | undefined;
  readonly alive: boolean;
  /** Processes started for this role so far. */
  readonly starts: number;
  readonly peakRssBytes: number;
  readonly unexpectedExits: UnexpectedExit[];
  start(): void;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after `graceMs`. No restart after it. */
  stop(graceMs?: number): Promise<void>;
  sampleMemory(): void;
}

export function processSlot(options: {
  name: string;
  command: string[];
  env: Record<string, string>;
  logFile: string;
  maxCrashRestarts?: number;
}): ProcessSlot {
  let child: ChildProcess | undefined;
  let starts = 0;
  let peak = 0;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const expectedExits = new WeakSet<ChildProcess>();
  const unexpectedExits: UnexpectedExit[] = [];
  const isAlive = (c: ChildProcess | undefined) => c !== undefined && c.exitCode === null && c.signalCode === null;

  const sampleMemory = () => {
    if (!isAlive(child)) return;
    const memory = processMemory(child!.pid!);
    if (memory) peak = Math.max(peak, memory.peakBytes, memory.rssBytes);
  };

  const start = () => {
    if (isAlive(child)) throw new Error(`${options.name} is already running`);
    const fd = openSync(options.logFile, 'a');
    let next: ChildProcess;
    try {
      next = spawn(process.execPath, [sealpostBin, ...options.command], { env: options.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    trackChild(next);
    starts++;
    child = next;
    next.once('exit', (code, signal) => {
      if (expectedExits.has(next) || stopping) return;
      unexpectedExits.push({
        slot: options.name,
        pid: next.pid ?? 0,
        code,
        signal,
        at: new Date().toISOString(),
        logTail: logTail(options.logFile, 15),
      });
      if (unexpectedExits.length <= (options.maxCrashRestarts ?? 5)) {
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (!stopping && !isAlive(child)) start();
        }, 1_000);
      }
    });
  };

  return {
    name: options.name,
    get pid() {
      return isAlive(child) ? child!.pid : undefined;
    },
    get alive() {
      return isAlive(child);
    },
    get starts() {
      return starts;
    },
    get peakRssBytes() {
      return peak;
    },
    unexpectedExits,
    start,
    async kill() {
      const victim = child;
      if (!victim || !isAlive(victim)) return;
      sampleMemory();
      expectedExits.add(victim);
      const exited = new Promise((r) => victim.once('exit', r));
      victim.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (!child || !isAlive(child)) return;
      sampleMemory();
      expectedExits.add(child);
      await stopProcess(child, graceMs);
    },
    sampleMemory,
  };
}
