import { ConfigError, configSchema, loadConfig, type Config } from '../config.ts';

export const configUsage = `  config check                           validate the environment and print the settings it gives
                                         (secrets masked, defaults marked); opens nothing`;

const MASK = '***';

/** `sealpost config check`: loadConfig on the given environment, and nothing else (no database, no files). */
export function configCommand(args: string[], env: Record<string, string | undefined>): number {
  if (args[0] !== 'check' || args.length > 1) {
    console.error(`Usage: sealpost config check`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`sealpost: ${error.message}`);
    return 1;
  }
  const names = Object.keys(configSchema.shape) as Array<keyof Config>;
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((name) => {
    const given = env[name] !== undefined && env[name]!.trim() !== '';
    const value = config[name];
    if (value === undefined) return `${name.padEnd(width)}  (unset)`;
    return `${name.padEnd(width)}  ${display(name, value)}${given ? '' : '  (default)'}`;
  });
  console.log(['configuration is valid; these settings would be used:', ...lines, ...notes(config)].join('\n'));
  return 0;
}

function display(name: keyof Config, value: string | number | boolean): string {
  if (name === 'SEALPOST_MASTER_KEY') return MASK;
  if (name === 'DATABASE_URL' || name === 'SMTP_URL') return maskUrl(String(value));
  return String(value);
}

/** The URL with its password (and any password query parameter) replaced; unparseable text is masked whole. */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return MASK;
  }
  if (url.password) url.password = MASK;
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|key/i.test(key)) url.searchParams.set(key, MASK);
  }
  return url.href;
}

/** The development fallbacks a missing variable selects, which a production setup should not rely on. */
function notes(config: Config): string[] {
  const notes: string[] = [];
  if (!config.DATABASE_URL) notes.push(`DATABASE_URL unset: an embedded PostgreSQL runs under ${config.DATA_DIR}/pg`);
  if (!config.SEALPOST_MASTER_KEY) notes.push(`SEALPOST_MASTER_KEY unset: a development key is generated in ${config.DATA_DIR}/master.key`);
  if (!config.SMTP_URL) notes.push(`SMTP_URL unset: mail is written to ${config.DATA_DIR}/mail/ and nothing leaves the machine`);
  return notes.length ? ['', 'note:', ...notes.map((n) => `  ${n}`)] : [];
}
