/**
 * Where a benchmark's CPU goes (Linux /proc): snapshots of the CPU used so far by
 * the machine, this process, a process tree (PostgreSQL) and given processes
 * (workers); the difference of two snapshots split per message. Process times
 * come from /proc/<pid>/stat (all threads of a process), the machine's from /proc/stat.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second, the unit of /proc CPU times (USER_HZ, 100 on Linux). */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime: the process's own CPU, all its threads, in clock ticks. */
  ownTicks: number;
  /** cutime + cstime: CPU of the children it has waited for (reaped), in clock ticks. */
  reapedChildTicks: number;
}

/**
 * One /proc/<pid>/stat line. The command name (field 2) sits in parentheses and
 * may itself hold spaces and parentheses, so the fields are read after the last ')'.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf(' (');
  const close = line.lastIndexOf(')');
  if (open < 1 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`);
  const rest = line.slice(close + 1).trim().split(/\s+/);
  /** Field n as numbered in proc(5); rest[0] is field 3 (state). */
  const field = (n: number) => {
    const value = Number(rest[n - 3]);
    if (!Number.isInteger(value)) throw new Error(`/proc/<pid>/stat field ${n} is not a number: ${JSON.stringify(line.slice(0, 80))}`);
    return value;
  };
  return { pid: Number(line.slice(0, open)), ppid: field(4), ownTicks: field(14) + field(15), reapedChildTicks: field(16) + field(17) };
}

/** The process's stat, or undefined once it has gone. */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
}

/** The aggregate `cpu` line of /proc/stat: busy and total CPU seconds since boot, summed over all cores. */
export function parseMachineStat(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / ticksPerSecond, total: (busy + idle + iowait + steal) / ticksPerSecond };
}

/** Every process now, by pid. */
function allProcesses(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat) all.set(stat.pid, stat);
  }
  return all;
}

/**
 * `root` and every process below it. Counting each one's own time plus what it
 * has reaped, a tree's sum only grows: a child that exits moves its time into
 * its parent's reaped time, so short-lived children (PostgreSQL backends) are
 * counted without catching them alive.
 */
function tree(root: number, all: Map<number, ProcStat>): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const stat of all.values()) byParent.set(stat.ppid, [...(byParent.get(stat.ppid) ?? []), stat]);
  const found: ProcStat[] = [];
  const visit = (stat: ProcStat, depth: number) => {
    found.push(stat);
    if (depth < 16) for (const child of byParent.get(stat.pid) ?? []) visit(child, depth + 1);
  };
  const rootStat = all.get(root);
  if (rootStat) visit(rootStat, 0);
  return found;
}

const cpuSeconds = (stats: ProcStat[]) => stats.reduce((sum, s) => sum + s.ownTicks + s.reapedChildTicks, 0) / ticksPerSecond;

/** CPU seconds used so far by `root` and every process below it (see `tree`); undefined when `root` has gone. */
export function treeCpuSeconds(root: number): number | undefined {
  const stats = tree(root, allProcesses());
  return stats.length > 0 ? cpuSeconds(stats) : undefined;
}

/** CPU used so far by the parts of a run, read at one moment. */
export interface CpuSnapshot {
  /** performance.now() */
  at: number;
  machine: { busy: number; total: number };
  bench: NodeJS.CpuUsage;
  /** CPU seconds of PostgreSQL's process tree; undefined when not measurable. */
  postgres?: number;
  /** CPU seconds of each worker process, in the order given (empty before they start). */
  workers: number[];
  /** Every process on the machine, and those that are part of the run (to name the largest others). */
  all: Map<number, ProcStat>;
  ours: Set<number>;
}

/**
 * Reads the machine (/proc/stat), this process (process.cpuUsage: its own
 * threads, not its children), PostgreSQL (the tree under `postgresPid`) and each
 * of `workerPids` (with the children it reaped). Throws when a worker has gone.
 */
export function cpuSnapshot(options: { postgresPid?: number; workerPids: number[] }): CpuSnapshot {
  const all = allProcesses();
  const postgres = options.postgresPid === undefined ? [] : tree(options.postgresPid, all);
  const workers = options.workerPids.map((pid) => {
    const stat = all.get(pid);
    if (!stat) throw new Error(`worker process ${pid} had gone before its CPU time was read`);
    return cpuSeconds([stat]);
  });
  return {
    at: performance.now(),
    machine: parseMachineStat(readFileSync('/proc/stat', 'utf8')),
    bench: process.cpuUsage(),
    ...(postgres.length > 0 && { postgres: cpuSeconds(postgres) }),
    workers,
    all,
    ours: new Set([process.pid, ...options.workerPids, ...postgres.map((s) => s.pid)]),
  };
}

/** What one window cost, in ms of CPU per message and in CPU seconds. */
export interface CpuSplit {
  seconds: number;
  messages: number;
  cores: number;
  /** Busy share of all cores over the window, %. */
  machineBusyPercent: number;
  /**
   * total = workers + postgres + bench: what the run itself costs (postgres null:
   * not measurable, e.g. an external server). other = the machine's busy time
   * none of them used: other processes, the kernel outside them (and PostgreSQL
   * when it is not measurable).
   */
  msPerMessage: { total: number; workers: number; eachWorker: number[]; postgres: number | null; bench: number; other: number; machine: number };
  cpuSeconds: { workers: number[]; postgres: number | null; bench: number; other: number; machine: number };
  /** The processes outside the run that used the most CPU in the window (with the children they reaped). */
  largestOther: { pid: number; command: string; cpuSeconds: number }[];
}

/** The CPU used between two snapshots, `messages` delivered in between. A worker absent from `from` had not started: all its time counts. */
export function cpuSplit(from: CpuSnapshot, to: CpuSnapshot, messages: number): CpuSplit {
  const workers = to.workers.map((s, i) => s - (from.workers[i] ?? 0));
  const workersTotal = workers.reduce((a, b) => a + b, 0);
  const postgres = from.postgres === undefined || to.postgres === undefined ? null : to.postgres - from.postgres;
  const bench = (to.bench.user + to.bench.system - from.bench.user - from.bench.system) / 1e6;
  const machine = to.machine.busy - from.machine.busy;
  const total = workersTotal + (postgres ?? 0) + bench;
  const perMessage = (s: number) => round2((s * 1000) / Math.max(1, messages));
  // A process's use in the window: its own + reaped time now, less that at the start, less what the
  // processes below it that exited in the window had used before it (that time moved in, it was not spent here).
  const used = new Map([...to.all.values()].map((s) => [s.pid, cpuSeconds([s]) - cpuSeconds(from.all.has(s.pid) ? [from.all.get(s.pid)!] : [])]));
  for (const gone of from.all.values()) {
    if (to.all.has(gone.pid)) continue;
    let survivor = gone.ppid;
    for (let depth = 0; depth < 16 && !to.all.has(survivor) && from.all.has(survivor); depth++) survivor = from.all.get(survivor)!.ppid;
    if (used.has(survivor)) used.set(survivor, used.get(survivor)! - cpuSeconds([gone]));
  }
  const largestOther = [...used]
    .filter(([pid]) => !to.ours.has(pid) && !from.ours.has(pid))
    .map(([pid, seconds]) => ({ pid, cpuSeconds: seconds }))
    .filter((p) => p.cpuSeconds >= 0.05)
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds)
    .slice(0, 3)
    .map((p) => ({ pid: p.pid, command: commandOf(p.pid), cpuSeconds: round2(p.cpuSeconds) }));
  return {
    seconds: round2((to.at - from.at) / 1000),
    messages,
    cores: cpus().length,
    machineBusyPercent: round2((100 * machine) / (to.machine.total - from.machine.total)),
    msPerMessage: {
      total: perMessage(total),
      workers: perMessage(workersTotal),
      eachWorker: workers.map(perMessage),
      postgres: postgres === null ? null : perMessage(postgres),
      bench: perMessage(bench),
      other: perMessage(machine - total),
      machine: perMessage(machine),
    },
    cpuSeconds: {
      workers: workers.map(round2),
      postgres: postgres === null ? null : round2(postgres),
      bench: round2(bench),
      other: round2(machine - total),
      machine: round2(machine),
    },
    largestOther,
  };
}

/** "CPU 29.1 ms/msg = workers 17.0 (8.6 + 8.4) + PostgreSQL 6.4 + bench process 5.0; other 0.7 (…); machine 96 % busy of 2 cores" */
export function formatCpuSplit(split: CpuSplit): string {
  const ms = split.msPerMessage;
  const f = (n: number) => n.toFixed(1);
  const others = split.largestOther.map((p) => `${p.command} ${p.cpuSeconds} s`).join('; ');
  return (
    `CPU ${f(ms.total)} ms/msg = workers ${f(ms.workers)}${ms.eachWorker.length > 1 ? ` (${ms.eachWorker.map(f).join(' + ')})` : ''}` +
    ` + PostgreSQL ${ms.postgres === null ? 'unknown (external server, inside other)' : f(ms.postgres)} + bench process (peer, app) ${f(ms.bench)}` +
    `; other ${f(ms.other)}${others ? ` (largest: ${others})` : ''}; machine ${Math.round(split.machineBusyPercent)} % busy of ${split.cores} cores`
  );
}

/** PID of the postmaster of the cluster in `dataDir` (first line of postmaster.pid), or undefined. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A short name for a process: its program and arguments without options (`node vitest run test/x.test.ts`); `[name]` for kernel threads. */
function commandOf(pid: number): string {
  try {
    const [program = '', ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (!program) return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
    const kept = args.filter((arg, i) => !arg.startsWith('-') && !/^(--require|-r|--import|--loader)$/.test(args[i - 1] ?? ''));
    const text = [program.split('/').pop(), ...kept.map((a) => a.replace(/^.*\/node_modules\//, ''))].join(' ');
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  } catch {
    return `pid ${pid} (gone)`;
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;
