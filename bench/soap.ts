/**
 * `npm run bench:soap`: SubmitMessage over SOAP against the same submission over
 * REST, both on the real Sealpost server (bench/servers/ours.ts), one after the
 * other on one PostgreSQL, alternating for `--rounds`. Same attachment bytes and
 * fields in both; the SOAP envelope is the shape of test/support/soap.ts. See
 * bench/README.md; the driver is bench/lib/compare.ts.
 */
import { fileURLToPath } from 'node:url';
import { credentialsOf } from '../test/support/soap.ts';
import { countSealpostRows, createSubmitterKey, parseSettings, runAsMain, runComparison, type BenchSettings, type Target, type TargetRun } from './lib/compare.ts';
import { soapSubmission, submissionBody } from './lib/payload.ts';
import { restTarget } from './submit.ts';

export const TARGET_RATIO = 0.6;

const authChoices = ['wsse', 'basic', 'both'] as const;
export type SoapAuth = (typeof authChoices)[number];
export type SoapSettings = BenchSettings & { auth: SoapAuth };

export function soapSettingsFrom(argv: string[], env: NodeJS.ProcessEnv = process.env): SoapSettings {
  const { extra, ...settings } = parseSettings(argv, env, {
    command: 'npm run bench:soap',
    targets: 'soap/rest',
    extra: {
      auth: {
        env: 'BENCH_SOAP_AUTH',
        fallback: 'wsse',
        choices: authChoices,
        help: 'SOAP credentials: wsse (UsernameToken PasswordText in the envelope), basic (HTTP Basic), both (two SOAP targets)',
      },
    },
  });
  return { ...settings, auth: extra.auth as SoapAuth };
}

/** SubmitMessage on the real server: 200 and a SubmitMessageResponse. */
function soapTarget(name: string, auth: 'wsse' | 'basic', attachment: Buffer): Target {
  return {
    name,
    script: 'ours.ts',
    databasePrefix: 'sealpost_bench',
    sealpost: true,
    expectedStatus: 200,
    async request(databaseUrl) {
      const credentials = credentialsOf(await createSubmitterKey(databaseUrl));
      const headers: Record<string, string> = {
        'content-type': 'text/xml; charset=utf-8',
        soapaction: '"urn:sealpost:v1/SubmitMessage"',
      };
      if (auth === 'basic') headers.authorization = `Basic ${Buffer.from(`${credentials.keyId}:${credentials.secret}`).toString('base64')}`;
      return { path: '/soap/v1', headers, body: soapSubmission(attachment, auth === 'wsse' ? credentials : undefined) };
    },
    countRows: countSealpostRows,
  };
}

export async function runSoapBenchmark(settings: SoapSettings): Promise<{ ok: boolean; resultFile: string }> {
  const { json, attachment } = submissionBody(settings.attachmentBytes);
  const soap: Target[] =
    settings.auth === 'both'
      ? [soapTarget('soap', 'wsse', attachment), soapTarget('soapBasic', 'basic', attachment)]
      : [soapTarget('soap', settings.auth, attachment)];
  // Without real keys: the envelope's size give or take a few bytes of key id and secret.
  const envelopeBytes = soapSubmission(attachment, settings.auth === 'basic' ? undefined : { keyId: 'sp_0000000000000000', secret: 'x'.repeat(43) }).length;
  return runComparison(
    {
      benchmark: 'soap',
      title: `SOAP SubmitMessage (${settings.auth === 'both' ? 'soap: WS-Security UsernameToken, soapBasic: HTTP Basic' : settings.auth === 'wsse' ? 'WS-Security UsernameToken' : 'HTTP Basic'}) vs REST`,
      targets: [...soap, restTarget('rest', json)],
      reference: 'rest',
      targetRatio: TARGET_RATIO,
      bodyNote: `SOAP envelope about ${envelopeBytes} bytes, REST body ${json.length} bytes (attachment ${settings.attachmentBytes} bytes as base64 in both)`,
      settings: { soapAuth: settings.auth, requestBodyBytes: { soap: envelopeBytes, rest: json.length } },
      summarise: (runs) => ({ latencyMs: latencies(runs) }),
    },
    settings,
  );
}

/** Mean over rounds of each target's p50 and p99. */
function latencies(runs: TargetRun[]): Record<string, { p50: number; p99: number }> {
  const names = [...new Set(runs.map((r) => r.target))];
  const mean = (list: number[]) => Math.round((list.reduce((a, b) => a + b, 0) / list.length) * 10) / 10;
  return Object.fromEntries(
    names.map((name) => {
      const own = runs.filter((r) => r.target === name);
      return [name, { p50: mean(own.map((r) => r.latencyMs.p50)), p99: mean(own.map((r) => r.latencyMs.p99)) }];
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runAsMain(() => runSoapBenchmark(soapSettingsFrom(process.argv.slice(2))));
}
