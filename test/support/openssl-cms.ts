import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command with `input` on stdin; resolves with its exit code and output, never rejects on a non-zero exit. */
export function run(command: string, args: string[], input?: Buffer, env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(env && { env }) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // openssl may exit before reading everything
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** A temporary directory for PEM files handed to openssl/gpgsm; `file(name, data)` writes one and returns its path. */
export async function scratch(): Promise<{ dir: string; file(name: string, data: string | Buffer): Promise<string>; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-smime-'));
  return {
    dir,
    async file(name, data) {
      const path = join(dir, name);
      await writeFile(path, data, { mode: 0o600 });
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
