/** Benchmark settings from the environment: one parser, one error message naming the variable. */

type Env = Record<string, string | undefined>;

/** An integer setting, `min` or more (default 1); unset or empty means `fallback`. */
export function intSetting(name: string, fallback: number, options: { min?: number; env?: Env } = {}): number {
  const raw = (options.env ?? process.env)[name]?.trim();
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  const min = options.min ?? 1;
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min} (got ${JSON.stringify(raw)})`);
  return n;
}

/** `1`/`0` (also `true`/`false`, `yes`/`no`); unset or empty means `fallback`. */
export function flagSetting(name: string, fallback: boolean, options: { env?: Env } = {}): boolean {
  const raw = (options.env ?? process.env)[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new Error(`${name} must be 1 or 0 (got ${JSON.stringify(raw)})`);
}
