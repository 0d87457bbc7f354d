import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './children.ts';

/** The real `sealpost` command, as an operator runs it. */
export const sealpostBin = join(projectRoot, 'bin', 'sealpost.js');

/** Runs a one-shot `sealpost` command (`migrate`, `tenant create` …) to its end and returns its stdout. */
export function runSealpost(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sealpostBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`sealpost ${args.join(' ')} exited ${code ?? signal}: ${err}`));
    });
  });
}

/** Polls `/readyz` on loopback until it answers 200; throws after `timeoutMs` or once `alive()` says the process is gone. */
export async function waitReady(port: number, timeoutMs = 60_000, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the API on port ${port} exited before it was ready`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API on port ${port} did not become ready within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL when the process has not exited after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
