import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The real CLI entry point, as `npx sealpost` runs it. */
export const sealpostBin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

export const runProcess = promisify(execFile);

/**
 * Runs `sealpost …` as a child process with the environment `env()` gives at
 * call time: `sealpost` resolves with its output, `failing` resolves with the
 * error of a run that must fail (and fails the test if it succeeds).
 */
export function sealpostCli(env: () => Record<string, string>) {
  const sealpost = (...args: string[]) => runProcess(process.execPath, [sealpostBin, ...args], { env: env() });
  const failing = (...args: string[]) =>
    sealpost(...args).then(
      () => {
        throw new Error(`sealpost ${args.join(' ')} succeeded`);
      },
      (error: { code: number; stderr: string }) => error,
    );
  return { sealpost, failing };
}
