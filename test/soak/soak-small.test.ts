import { describe, expect, it } from 'vitest';
import { runSoak, soakSettingsFromEnv } from '../../bench/soak.ts';

/**
 * `npm run soak` in its small configuration: the same code (bench/soak.ts) with
 * real `sealpost serve`/`worker` processes, its own embedded PostgreSQL (so it can
 * be restarted) and a STARTTLS SMTP peer, all on loopback. With DATABASE_URL set
 * the restart is skipped (the run says so) and the rest still holds.
 */
describe('soak run, small configuration', () => {
  it('loses no acknowledged payslip and duplicates at most one per worker kill, through worker and API kills, an SMTP outage and a PostgreSQL restart', async () => {
    const lines: string[] = [];
    const result = await runSoak(
      {
        ...soakSettingsFromEnv({}),
        messages: 500,
        workerKills: 3,
        apiKills: 1,
        smtpOutageSeconds: 10,
        postgresRestart: true,
        leaseSeconds: 5,
        retryBaseSeconds: 1,
        retryMaxSeconds: 4,
        budgetSeconds: 150,
        writeResults: false,
        keepLogs: process.env.SOAK_KEEP_LOGS === '1',
      },
      (line) => lines.push(line),
    );
    const report = `\n${lines.join('\n')}`;
    console.log(result.table);

    expect(result.failures, report).toEqual([]);
    expect(result.acknowledged, report).toBe(500);
    expect(result.lost, report).toBe(0);
    expect(result.delivered, report).toBe(500);
    // One worker kill repeats at most one hand-over here (WORKER_CONCURRENCY=1), and the logbook flags each.
    expect(result.duplicates, report).toBeLessThanOrEqual(result.workerKills);
    expect(result.unflaggedDuplicates, report).toBe(0);
    const injected = (fault: string) => result.faults.filter((f) => f.fault === fault).length;
    expect(injected('worker_kill'), report).toBe(3);
    expect(injected('api_kill'), report).toBe(1);
    expect(injected('smtp_outage'), report).toBe(1);
    expect(injected('postgres_restart'), report).toBe(process.env.DATABASE_URL ? 0 : 1);
    expect(result.ok, report).toBe(true);
  }, 175_000);
});
