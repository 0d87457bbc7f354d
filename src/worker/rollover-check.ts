import { spawn } from 'node:child_process';
import type { CoreContext } from '../core/context.ts';
import { rollOverExpiringIdentities, type CaHook, type CsrForHook } from '../core/identity-rollover.ts';
import { identitiesNearExpiry, ROLLOVER_WARNING_DAYS } from '../core/identities.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import type { JobResult } from './worker.ts';

const HOUR = 3_600_000;
const DAY_SECONDS = 86_400;
/** More than any certificate chain; a hook printing more is misbehaving. */
const MAX_HOOK_OUTPUT = 1024 * 1024;
const MAX_HOOK_STDERR = 4096;
/** The hook's PATH: fixed, so the hook sees nothing of this process's environment. */
const HOOK_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * Warns, at start and then hourly, about every signing identity within
 * `withinDays` of expiry, so an operator imports its successor (or the CA hook
 * issues one) before mail goes out unsigned. The metric
 * sealpost_certificate_expiry_timestamp_seconds carries the same fact for alerting.
 */
export function startRolloverCheck(
  db: Db,
  log: Logger,
  everyMs = HOUR,
  withinDays = ROLLOVER_WARNING_DAYS,
): { stop(): Promise<void>; check(): Promise<void> } {
  const warnAboutExpiringIdentities = async () => {
    try {
      for (const w of await identitiesNearExpiry(db, { withinDays })) {
        log.warn(
          { tenantId: w.tenantId, identityId: w.id, scope: w.scope, fingerprint: w.fingerprint, notAfter: w.notAfter.toISOString(), daysLeft: w.daysLeft },
          'signing identity expires soon: import its successor',
        );
      }
    } catch (err) {
      log.warn({ err }, 'could not check signing identities for expiry');
    }
  };
  let running: Promise<void> = Promise.resolve();
  const check = () => (running = warnAboutExpiringIdentities());
  void check();
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
    check,
  };
}

export interface RolloverJobDeps {
  core: CoreContext;
  /** ROLLOVER_CA_HOOK; unset: the job removes itself (warnings only). */
  hookPath: string | undefined;
  hookTimeoutMs: number;
  withinDays: number;
  onOutcome?: (outcome: 'issued' | 'failed') => void;
}

/**
 * The `identity_rollover` job (one outbox row, so one worker at a time): rolls
 * over every identity due, logs and counts each outcome, comes back a day later.
 */
export async function identityRolloverJob(deps: RolloverJobDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  if (!deps.hookPath) {
    log.info('key rollover is off (ROLLOVER_CA_HOOK unset); removing the identity rollover job');
    await completeJob(deps.core.db, job.id);
    return 'skipped';
  }
  const hook = caHook(deps.hookPath, deps.hookTimeoutMs);
  for (const o of await rollOverExpiringIdentities(deps.core, { withinDays: deps.withinDays, hook })) {
    deps.onOutcome?.(o.outcome);
    if (o.outcome === 'issued') {
      log.info({ tenantId: o.tenantId, identityId: o.identityId, scope: o.scope, successorId: o.successorId, serial: o.serial }, 'signing identity rolled over: successor issued by the CA hook');
    } else {
      log.warn({ tenantId: o.tenantId, identityId: o.identityId, scope: o.scope, reason: o.reason }, 'signing identity rollover failed: the old identity stays in use');
    }
  }
  await rescheduleJob(deps.core.db, job.id, DAY_SECONDS);
  return 'done';
}

/**
 * The CA hook as a process: the CSR on stdin, the request's facts in its
 * environment (only those and a fixed PATH: never the master key or the database URL),
 * the issued PEM on stdout. Killed after `timeoutMs` or past 1 MiB of output.
 */
export function caHook(path: string, timeoutMs: number): CaHook {
  return (request: CsrForHook) =>
    new Promise<string>((resolve, reject) => {
      // Its own process group, so a timeout kills what the hook started too (a shell's children hold its stdout).
      const child = spawn(path, [], {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        env: {
          PATH: HOOK_PATH,
          SEALPOST_TENANT_ID: request.tenantId,
          SEALPOST_SCOPE: request.scope,
          SEALPOST_OLD_SERIAL: request.oldSerial,
          SEALPOST_OLD_IDENTITY_ID: request.oldIdentityId,
        },
      });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = '';
      let settled = false;
      const settle = (error: Error | undefined, output?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(output ?? '');
      };
      const stop = (reason: string) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL'); // the group is gone already
        }
        child.stdout.destroy();
        child.stderr.destroy();
        settle(new Error(reason));
      };
      const timer = setTimeout(() => stop(`the CA hook did not finish within ${timeoutMs} ms`), timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > MAX_HOOK_OUTPUT) stop(`the CA hook printed more than ${MAX_HOOK_OUTPUT} bytes`);
        else stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < MAX_HOOK_STDERR) stderr += chunk.toString('utf8');
      });
      child.stdin.on('error', () => {}); // a hook that exits without reading: its exit status tells
      child.on('error', (error) => settle(new Error(`the CA hook ${path} could not be run: ${error.message}`)));
      child.on('close', (code, signal) => {
        const said = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300);
        if (code !== 0) settle(new Error(`the CA hook exited with ${code ?? signal}${said ? `: ${said}` : ''}`));
        else settle(undefined, Buffer.concat(stdout).toString('utf8'));
      });
      child.stdin.end(request.csrPem);
    });
}
