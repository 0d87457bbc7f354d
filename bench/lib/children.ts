import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from '../servers/protocol.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every child still alive, so an exit handler can kill them whatever happened. */
const live = new Set<ChildProcess>();

/** Synchronous last resort (process 'exit', signals): SIGKILL every child still running. */
export function killAllChildrenNow(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/** Registers a child started elsewhere (bench/lib/process-slot.ts), so killAllChildrenNow covers it too. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export interface ServerChild {
  name: string;
  pid: number;
  port: number;
  logFile: string;
  /** Starts a V8 CPU profile in the child (inspector), resolves once it runs. */
  startProfile(): Promise<void>;
  /** Stops the profile and writes it to `file` (.cpuprofile, readable by Chrome DevTools). */
  stopProfile(file: string): Promise<void>;
  /** Graceful stop over IPC, SIGKILL after `graceMs`. Returns the child's final stats. */
  stop(graceMs?: number): Promise<Record<string, unknown> | undefined>;
}

/**
 * Runs `script` (a TypeScript file under bench/servers) in its own Node process
 * through tsx, stdout/stderr into `logFile`, and waits for its `ready` message.
 */
export async function startServerChild(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  logFile: string;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<ServerChild> {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      fileURLToPath(new URL(`../servers/${options.script}`, import.meta.url))], {
      cwd: projectRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd, 'ipc'],
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} server did not become ready within ${options.readyTimeoutMs ?? 120_000} ms${logTail(options.logFile)}`));
    }, options.readyTimeoutMs ?? 120_000);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${options.name} server failed to start: ${message.message}${logTail(options.logFile)}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} server exited before it was ready (code ${code}, signal ${signal})${logTail(options.logFile)}`));
    });
  });

  return {
    name: options.name,
    pid: child.pid!,
    port,
    logFile: options.logFile,
    startProfile: () => request(child, { type: 'profile-start' }, 'profile-started'),
    stopProfile: (file) => request(child, { type: 'profile-stop', file }, 'profile-written'),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      let stats: Record<string, unknown> | undefined;
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'stopped') stats = message.stats;
      });
      try {
        child.send({ type: 'stop' } satisfies ParentMessage);
      } catch {
        child.kill('SIGKILL');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      return stats;
    },
  };
}

/** Sends `message` and waits for a reply of type `expected` (or an error message, or 30 s). */
function request(child: ChildProcess, message: ParentMessage, expected: ChildMessage['type']): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no ${expected} from the child within 30 s`)), 30_000);
    const onMessage = (reply: ChildMessage) => {
      if (reply.type === expected) finish();
      else if (reply.type === 'error') finish(new Error(reply.message));
    };
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      if (error) reject(error);
      else resolve();
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

export function logTail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return text ? `\n--- last lines of ${file} ---\n${text}` : '';
  } catch {
    return '';
  }
}
