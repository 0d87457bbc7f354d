/**
 * `npm run bench:submit`: REST submission throughput of Sealpost against a bare
 * Fastify + pg baseline, on one PostgreSQL, one after the other, each server in
 * its own child process, autocannon in this process. See bench/README.md; the
 * driver is bench/lib/compare.ts.
 */
import { fileURLToPath } from 'node:url';
import {
  adminQueryCount,
  countSealpostRows,
  createSubmitterKey,
  parseSettings,
  runAsMain,
  runComparison,
  type BenchSettings,
  type Target,
} from './lib/compare.ts';
import { submissionBody } from './lib/payload.ts';

export const TARGET_RATIO = 0.8;

export type SubmitSettings = BenchSettings;

export function settingsFrom(argv: string[], env: NodeJS.ProcessEnv = process.env): SubmitSettings {
  const { extra: _none, ...settings } = parseSettings(argv, env, { command: 'npm run bench:submit', targets: 'ours/baseline' });
  return settings;
}

/** Sealpost's REST door on the real server: Bearer key, JSON, 202. */
export function restTarget(name: string, body: string): Target {
  return {
    name,
    script: 'ours.ts',
    databasePrefix: 'sealpost_bench',
    sealpost: true,
    expectedStatus: 202,
    request: async (databaseUrl) => ({
      path: '/v1/messages',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await createSubmitterKey(databaseUrl)}` },
      body,
    }),
    countRows: countSealpostRows,
  };
}

/** The bare Fastify + pg route of FINDINGS.md, same JSON body. */
function baselineTarget(body: string): Target {
  return {
    name: 'baseline',
    script: 'baseline.ts',
    databasePrefix: 'baseline_bench',
    sealpost: false,
    expectedStatus: 202,
    request: async () => ({ path: '/v1/messages', headers: { 'content-type': 'application/json' }, body }),
    countRows: async (url) => ({ committed: await adminQueryCount(url, 'baseline_attachments') }),
  };
}

/** Runs the whole benchmark; resolves with whether it passed its checks and where the JSON went. */
export async function runSubmitBenchmark(settings: SubmitSettings): Promise<{ ok: boolean; resultFile: string }> {
  const { json: body } = submissionBody(settings.attachmentBytes);
  return runComparison(
    {
      benchmark: 'submit',
      title: 'REST submission',
      targets: [restTarget('ours', body), baselineTarget(body)],
      reference: 'baseline',
      targetRatio: TARGET_RATIO,
      bodyNote: `body ${body.length} bytes (attachment ${settings.attachmentBytes} bytes as base64)`,
      settings: { requestBodyBytes: body.length },
    },
    settings,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runAsMain(() => runSubmitBenchmark(settingsFrom(process.argv.slice(2))));
}
