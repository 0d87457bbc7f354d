import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.ts';

const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

/** `sealpost worker` as a separate OS process with the test app's settings, for crash tests. */
export function spawnWorkerProcess(config: Config, env: Record<string, string> = {}): ChildProcess {
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value !== undefined) settings[key] = String(value);
  }
  return spawn(process.execPath, [bin, 'worker'], {
    env: { PATH: process.env.PATH ?? '', ...settings, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}
