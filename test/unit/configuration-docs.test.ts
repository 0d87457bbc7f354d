import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../../src/config.ts';
import { projectPath } from '../../src/paths.ts';

interface DocumentedVariable {
  name: string;
  defaultCell: string;
  line: number;
}

/** Table rows of docs/configuration.md whose first cell is a `VARIABLE_NAME`. */
function documentedVariables(): DocumentedVariable[] {
  const lines = readFileSync(projectPath('docs', 'configuration.md'), 'utf8').split('\n');
  const rows: DocumentedVariable[] = [];
  lines.forEach((text, index) => {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|/.exec(text);
    if (match) rows.push({ name: match[1]!, defaultCell: match[2]!.trim(), line: index + 1 });
  });
  return rows;
}

const schemaKeys = Object.keys(configSchema.shape).sort();
const rows = documentedVariables();

describe('docs/configuration.md', () => {
  it('has one row per variable of the config schema, and no other', () => {
    const names = rows.map((r) => r.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i), 'documented twice').toEqual([]);
    expect([...names].sort()).toEqual(schemaKeys);
  });

  it('documents the schema defaults', () => {
    const defaults = loadConfig({});
    for (const row of rows) {
      const actual = defaults[row.name as keyof typeof defaults];
      const where = `${row.name} (docs/configuration.md:${row.line})`;
      if (/^unset\b/i.test(row.defaultCell)) {
        expect(actual, where).toBeUndefined();
        continue;
      }
      // A literal default is the cell's leading `code`; anything after it is commentary ("(30 MiB)").
      const literal = /^`([^`]*)`/.exec(row.defaultCell)?.[1];
      expect(literal, `${where}: the default column must start with a \`literal\` or "unset"`).toBeDefined();
      expect(String(actual), where).toBe(literal);
    }
  });
});

describe('loadConfig', () => {
  const rejects = (env: Record<string, string>, ...names: string[]) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
    for (const name of names) expect((error as Error).message).toContain(name);
  };

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PUBLIC_BASE_URL', 'not a url'],
    ['LOG_LEVEL', 'verbose'],
    ['DATABASE_POOL_SIZE', '0'],
    ['EMBEDDED_PG_PORT', '80'],
    ['SMTP_SINK_PORT', '-1'],
    ['MAX_MESSAGE_BYTES', '1.5'],
    ['MAX_RECIPIENTS', 'many'],
    ['WORKER_ENABLED', 'maybe'],
    ['WORKER_ENABLED', 'TRUE'],
    ['WORKER_CONCURRENCY', '-4'],
    ['RETRY_WINDOW_SECONDS', '0'],
    ['SHUTDOWN_GRACE_MS', 'soon'],
    ['SMTP_URL', 'relay.example.com'],
    ['SMTP_URL', 'http://relay.example.com'],
    ['MESSAGE_ID_DOMAIN', 'not a domain'],
    ['SEALPOST_MASTER_KEY', 'c2hvcnQ='],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    rejects({ [name]: value }, name);
  });

  it('reports every bad variable at once', () => {
    rejects({ PORT: 'abc', LOG_LEVEL: 'loud' }, 'PORT', 'LOG_LEVEL');
  });

  it('requires the TLS certificate and key together', () => {
    rejects({ TLS_CERT_FILE: '/tls/server.crt' }, 'TLS_CERT_FILE', 'TLS_KEY_FILE');
    rejects({ TLS_KEY_FILE: '/tls/server.key' }, 'TLS_CERT_FILE', 'TLS_KEY_FILE');
    rejects({ TLS_CLIENT_CA_FILE: '/tls/clients.crt' }, 'TLS_CLIENT_CA_FILE');
    expect(loadConfig({ TLS_CERT_FILE: '/tls/server.crt', TLS_KEY_FILE: '/tls/server.key' }).TLS_CERT_FILE).toBe('/tls/server.crt');
  });

  it('reads empty optional values as unset, as the docs say', () => {
    const config = loadConfig({ DATABASE_URL: '', SMTP_URL: '  ', TLS_CERT_FILE: '', TLS_KEY_FILE: '', PUBLIC_BASE_URL: '' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.SMTP_URL).toBeUndefined();
    expect(config.TLS_CERT_FILE).toBeUndefined();
    expect(config.PUBLIC_BASE_URL).toBeUndefined();
  });

  it('reads empty values of any type as unset, so the default applies', () => {
    const config = loadConfig({ PORT: '', SMTP_SINK_PORT: ' ', MAX_MESSAGE_BYTES: '', MESSAGE_ID_DOMAIN: '' });
    expect(config.PORT).toBe(8080);
    expect(config.MAX_MESSAGE_BYTES).toBe(30 * 1024 * 1024);
    expect(config.MESSAGE_ID_DOMAIN).toBe('sealpost.invalid');
  });

  it('accepts the documented boolean spellings', () => {
    for (const [value, expected] of [['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]] as const) {
      expect(loadConfig({ WORKER_ENABLED: value }).WORKER_ENABLED, value).toBe(expected);
    }
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });
});
