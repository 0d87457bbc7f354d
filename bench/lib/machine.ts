import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './children.ts';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  freeMemoryBytesAtStart: number;
  node: string;
  platform: string;
  osRelease: string;
  hostname: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytesAtStart: os.freemem(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    osRelease: os.release(),
    hostname: os.hostname(),
  };
}

/** `uptime` as printed (load averages over 1, 5, 15 minutes) plus os.loadavg(). */
export function loadSnapshot(): { at: string; uptime: string; loadavg: number[] } {
  let uptime = '';
  try {
    uptime = execFileSync('uptime', { encoding: 'utf8', timeout: 5_000 }).trim();
  } catch {
    uptime = '(uptime unavailable)';
  }
  return { at: new Date().toISOString(), uptime, loadavg: os.loadavg().map((n) => Math.round(n * 100) / 100) };
}

/** The commit measured; read-only git commands only (`--no-optional-locks` keeps status from touching the index). */
export function gitInfo(): { commit: string | null; dirty: boolean | null } {
  const git = (args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 10_000 }).trim();
  let commit: string | null = null;
  let dirty: boolean | null = null;
  try {
    commit = git(['rev-parse', 'HEAD']);
  } catch {
    /* not a git checkout */
  }
  try {
    dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  } catch {
    /* unknown */
  }
  return { commit, dirty };
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  ppid: number;
  /** utime + stime, in seconds. */
  own: number;
  /** cutime + cstime (reaped children), in seconds. */
  children: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' '); // rest[0] is field 3 (state)
    const field = (n: number) => Number(rest[n - 3]);
    const hz = clockTicks();
    return { ppid: field(4), own: (field(14) + field(15)) / hz, children: (field(16) + field(17)) / hz };
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used (user + system); undefined when it is gone or /proc is missing. */
export function processCpuSeconds(pid: number): number | undefined {
  return procStat(pid)?.own;
}

/**
 * CPU seconds of one PostgreSQL cluster: the postmaster (its pid from
 * postmaster.pid), its live children, and the reaped ones through cutime/cstime.
 * Other clusters on the machine (test suites) are not counted.
 */
export function postgresCpuSeconds(dataDir: string | undefined): number | undefined {
  if (!dataDir || !existsSync(join(dataDir, 'postmaster.pid'))) return undefined;
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const root = procStat(postmaster);
  if (!root) return undefined;
  let total = root.own + root.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.ppid === postmaster) total += stat.own;
  }
  return total;
}

/** Resident memory of a process from /proc/<pid>/status: now (VmRSS) and its peak so far (VmHWM), in bytes. */
export function processMemory(pid: number): { rssBytes: number; peakBytes: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const rssBytes = kib('VmRSS');
    const peakBytes = kib('VmHWM');
    return Number.isFinite(rssBytes) && Number.isFinite(peakBytes) ? { rssBytes, peakBytes } : undefined;
  } catch {
    return undefined;
  }
}
