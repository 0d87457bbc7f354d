import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuSplit, parseMachineStat, parseProcStat, readProcStat, treeCpuSeconds, type CpuSnapshot } from '../../bench/lib/cpu-accounting.ts';

// A line as the kernel writes it; fields 14-17 (utime stime cutime cstime) are 11 22 33 44.
const statLine = (comm: string) =>
  `4242 (${comm}) S 17 4242 4242 0 -1 4194304 100 0 0 0 11 22 33 44 20 0 3 0 1720537 3133440 381 18446744073709551615 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`;

/** Node burning `cpuMs` of CPU, then staying alive `liveMs` (a CPU-bound loop bounded by CPU time, not wall time). */
const burner = (cpuMs: number, liveMs: number) =>
  spawn(process.execPath, ['-e', `while (process.cpuUsage().user < ${cpuMs * 1000}); setTimeout(() => {}, ${liveMs});`], { stdio: 'ignore' });

describe('CPU accounting from /proc (bench/lib/cpu-accounting.ts)', () => {
  it('reads the fields after the last parenthesis, whatever the command name holds', () => {
    for (const comm of ['postgres', 'postgres: postgres sealpost 127.0.0.1(5432) idle', 'a) S 1 2 (b', '']) {
      expect(parseProcStat(statLine(comm))).toEqual({ pid: 4242, ppid: 17, ownTicks: 33, reapedChildTicks: 77 });
    }
    expect(() => parseProcStat('4242 postgres S 17')).toThrow(/not a \/proc\/<pid>\/stat line/);
    expect(() => parseProcStat('4242 (x) S 17 1 1')).toThrow(/field 14 is not a number/);
  });

  it('counts busy and total machine time from the aggregate cpu line, not the per-core lines', () => {
    const stat = 'cpu  100 10 50 800 20 5 15 7 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\nintr 1\n';
    const { busy, total } = parseMachineStat(stat);
    // busy: user + nice + system + irq + softirq = 180 ticks; total adds idle, iowait and steal: 1007.
    expect(busy).toBeGreaterThan(0);
    expect(total / busy).toBeCloseTo(1007 / 180);
    expect(() => parseMachineStat('intr 1\n')).toThrow(/no aggregate cpu line/);
  });

  it('splits a window per message: workers started inside it count whole, other is what the machine used beyond the run', () => {
    const snapshot = (at: number, busy: number, bench: number, workers: number[], postgres?: number): CpuSnapshot => ({
      at,
      machine: { busy, total: 2 * (at / 1000) },
      bench: { user: bench * 1e6, system: 0 },
      ...(postgres !== undefined && { postgres }),
      workers,
      all: new Map(),
      ours: new Set(),
    });
    const split = cpuSplit(snapshot(1000, 100, 1, [], 50), snapshot(11_000, 117, 3, [6, 5.5], 53), 500);
    expect(split).toMatchObject({
      seconds: 10,
      messages: 500,
      machineBusyPercent: 85,
      msPerMessage: { total: 33, workers: 23, eachWorker: [12, 11], postgres: 6, bench: 4, other: 1, machine: 34 },
      cpuSeconds: { workers: [6, 5.5], postgres: 3, bench: 2, other: 0.5, machine: 17 },
    });
    // Without PostgreSQL's processes (an external server) its share is unknown and lands in other.
    const external = cpuSplit(snapshot(1000, 100, 1, []), snapshot(11_000, 117, 3, [6, 5.5]), 500);
    expect(external.msPerMessage).toMatchObject({ total: 27, postgres: null, other: 7 });
  });

  it('names the largest other processes by what they used in the window, not what a child they reaped used before it', () => {
    const stat = (pid: number, ppid: number, ownTicks: number, reapedChildTicks = 0) => ({ pid, ppid, ownTicks, reapedChildTicks });
    const [shell, build, compiler, editor] = [4_100_001, 4_100_002, 4_100_003, 4_100_004]; // pids unlikely to exist here
    const snapshot = (at: number, stats: ReturnType<typeof stat>[]): CpuSnapshot => ({
      at,
      machine: { busy: at, total: 2 * at },
      bench: { user: 0, system: 0 },
      workers: [],
      all: new Map(stats.map((s) => [s.pid, s])),
      ours: new Set(),
    });
    // Before the window the build had used 500 ticks and the compiler it started 300; in the window
    // 20 more between them, then both exited: the build reaped the compiler, the shell the build.
    const from = snapshot(1000, [stat(shell, 1, 0), stat(build, shell, 500), stat(compiler, build, 300), stat(editor, 1, 100)]);
    const to = snapshot(2000, [stat(shell, 1, 30, 820), stat(editor, 1, 150)]);
    const [first, second] = cpuSplit(from, to, 1).largestOther;
    expect(second!.pid).toBe(editor);
    expect(first).toMatchObject({ pid: shell, command: `pid ${shell} (gone)` });
    expect(first!.cpuSeconds).toBe(second!.cpuSeconds); // 30 + 20 ticks, as the editor's 50
  });

  it('reads this process, and nothing for a pid that has gone', async () => {
    expect(readProcStat(process.pid)).toMatchObject({ pid: process.pid, ppid: process.ppid });
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(readProcStat(child.pid!)).toBeUndefined();
  });

  it('counts a child process while it runs and after it has exited and been reaped', async () => {
    const before = treeCpuSeconds(process.pid)!;
    const child = burner(300, 60_000);
    try {
      for (let i = 0; i < 200 && (readProcStat(child.pid!)?.ownTicks ?? 0) < 30; i++) await new Promise((r) => setTimeout(r, 50));
      const whileRunning = treeCpuSeconds(process.pid)!;
      expect(whileRunning - before).toBeGreaterThanOrEqual(0.29);
      child.kill('SIGTERM');
      await once(child, 'exit');
      // Node has waited for it: its time is now in this process's reaped-children time, not lost.
      expect(treeCpuSeconds(process.pid)!).toBeGreaterThanOrEqual(whileRunning);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
