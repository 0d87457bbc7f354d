import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './children.ts';

/** The V8 .cpuprofile format written by `node --cpu-prof`. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Requests answered during the profiled window, when known: per-request figures divide by it. */
  requests?: number;
  busyMsPerRequest?: number;
  sampledMs: number;
  /** Share of sampled time the process was idle (waiting on sockets, the database, timers). */
  idleMs: number;
  gcMs: number;
  /** Self time by where the code lives: a package, a src/ file, node core, V8 builtins. */
  byArea: Array<{ area: string; ms: number; pctOfBusy: number; usPerRequest?: number }>;
  /** The functions where the CPU was (self time). */
  topSelf: Array<{ fn: string; where: string; ms: number; pctOfBusy: number; usPerRequest?: number }>;
  /** Inclusive time of the project's own functions (src/, bench/), recursion counted once. */
  srcInclusive: Array<{ fn: string; where: string; ms: number; pctOfBusy: number; usPerRequest?: number }>;
}

export function summariseProfile(file: string, top = 25, requests?: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta / 1000);
  }
  const sampledMs = [...self.values()].reduce((a, b) => a + b, 0);
  const nameOf = (id: number) => byId.get(id)!.callFrame.functionName;
  const special = (name: string) => ['(idle)', '(garbage collector)', '(program)', '(root)'].includes(name);
  let idleMs = 0;
  let gcMs = 0;
  for (const [id, ms] of self) {
    if (nameOf(id) === '(idle)') idleMs += ms;
    if (nameOf(id) === '(garbage collector)') gcMs += ms;
  }
  const busyMs = sampledMs - idleMs;
  const pct = (ms: number) => Math.round((ms / busyMs) * 1000) / 10;
  const round = (ms: number) => Math.round(ms);
  const perRequest = (ms: number) => (requests ? { usPerRequest: Math.round((ms * 1000) / requests) } : {});

  const areas = new Map<string, number>();
  const selfByFn = new Map<string, { fn: string; where: string; ms: number }>();
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const where = whereOf(frame.url, frame.lineNumber);
    const key = `${frame.functionName}|${where}`;
    const entry = selfByFn.get(key) ?? { fn: frame.functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    selfByFn.set(key, entry);
  }

  // Inclusive time per node, then per src/ function without double counting recursion.
  const inclusive = new Map<number, number>();
  const total = (id: number): number => {
    const cached = inclusive.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id)!;
    const sum = (self.get(id) ?? 0) + (node.children ?? []).reduce((acc, child) => acc + total(child), 0);
    inclusive.set(id, sum);
    return sum;
  };
  const srcTotals = new Map<string, { fn: string; where: string; ms: number }>();
  const walk = (id: number, open: Set<string>) => {
    const node = byId.get(id)!;
    const frame = node.callFrame;
    let key: string | undefined;
    if (isProjectSource(frame.url) && !special(frame.functionName)) {
      const where = whereOf(frame.url, frame.lineNumber);
      key = `${frame.functionName}|${where}`;
      if (!open.has(key)) {
        const entry = srcTotals.get(key) ?? { fn: frame.functionName || '(anonymous)', where, ms: 0 };
        entry.ms += total(id);
        srcTotals.set(key, entry);
        open.add(key);
      } else {
        key = undefined;
      }
    }
    for (const child of node.children ?? []) walk(child, open);
    if (key) open.delete(key);
  };
  const root = profile.nodes[0]!.id;
  walk(root, new Set());

  const sortMs = <T extends { ms: number }>(list: T[]) => list.sort((a, b) => b.ms - a.ms);
  return {
    file,
    ...(requests && { requests, busyMsPerRequest: Math.round((busyMs / requests) * 100) / 100 }),
    sampledMs: round(sampledMs),
    idleMs: round(idleMs),
    gcMs: round(gcMs),
    byArea: sortMs([...areas].map(([area, ms]) => ({ area, ms })))
      .slice(0, top)
      .map((a) => ({ area: a.area, ms: round(a.ms), pctOfBusy: pct(a.ms), ...perRequest(a.ms) })),
    topSelf: sortMs([...selfByFn.values()])
      .slice(0, top)
      .map((f) => ({ ...f, ms: round(f.ms), pctOfBusy: pct(f.ms), ...perRequest(f.ms) })),
    srcInclusive: sortMs([...srcTotals.values()])
      .slice(0, top)
      .map((f) => ({ ...f, ms: round(f.ms), pctOfBusy: pct(f.ms), ...perRequest(f.ms) })),
  };
}

function pathOf(url: string): string {
  return url.startsWith('file://') ? fileURLToPath(url) : url;
}

function isProjectSource(url: string): boolean {
  const path = pathOf(url);
  return path.startsWith(projectRoot) && !path.includes('/node_modules/');
}

function whereOf(url: string, line: number): string {
  if (!url) return '(native)';
  const path = pathOf(url);
  const shown = path.startsWith(projectRoot) ? relative(projectRoot, path) : path;
  // tsx-compiled project files report line 0 for every function: no line then.
  return line > 0 || !path.startsWith(projectRoot) || path.includes('/node_modules/') ? `${shown}:${line + 1}` : shown;
}

function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)' || functionName === '(program)') return functionName;
  if (!url) return 'V8 builtins / native (JSON.parse, RegExp, Buffer, crypto bindings…)';
  if (url.startsWith('node:')) return `node core: ${url.slice(5).split('/')[0]}`;
  const path = pathOf(url);
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return `npm: ${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (path.startsWith(projectRoot)) return `sealpost: ${relative(projectRoot, path)}`;
  return path;
}

/** Plain-text rendering for the terminal. */
export function formatProfileSummary(s: ProfileSummary): string {
  const us = (n?: number) => (n === undefined ? '' : `${String(n).padStart(6)} µs/req  `);
  const lines = [
    `CPU profile ${relative(process.cwd(), s.file)}`,
    `  sampled ${s.sampledMs} ms, idle ${s.idleMs} ms (${Math.round((s.idleMs / s.sampledMs) * 100)}%), busy ${s.sampledMs - s.idleMs} ms, GC ${s.gcMs} ms` +
      (s.requests ? `; ${s.requests} requests answered in the window = ${s.busyMsPerRequest} ms busy CPU per request` : ''),
    '  self time by area (% of busy):',
    ...s.byArea.map((a) => `    ${a.pctOfBusy.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${us(a.usPerRequest)}${a.area}`),
    '  top functions, self time (% of busy):',
    ...s.topSelf.map((f) => `    ${f.pctOfBusy.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${us(f.usPerRequest)}${f.fn}  ${f.where}`),
    '  project functions (src/, bench/servers), inclusive time (% of busy):',
    ...s.srcInclusive.map((f) => `    ${f.pctOfBusy.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${us(f.usPerRequest)}${f.fn}  ${f.where}`),
  ];
  return lines.join('\n');
}

// `tsx bench/lib/profile-summary.ts <file.cpuprofile>` prints a summary of any profile.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/lib/profile-summary.ts <file.cpuprofile> [top] [requests answered in the window]');
    process.exit(2);
  }
  const requests = process.argv[4] ? Number(process.argv[4]) : undefined;
  console.log(formatProfileSummary(summariseProfile(file, Number(process.argv[3] ?? 25), requests)));
}
