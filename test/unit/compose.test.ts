import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/config.ts';
import { projectPath, projectRoot } from '../../src/paths.ts';

/**
 * There is no Docker engine in CI, so the container files are checked by reading
 * them: the names they use exist, the files they copy or mount exist, and the
 * compose environment is one src/config.ts accepts.
 */

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: unknown[];
  volumes?: Array<string | { type?: string; source?: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  container_name?: string;
  hostname?: string;
}

const composeText = readFileSync(projectPath('docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`); the yaml package does when asked.
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const services = compose.services;
const configKeys = new Set(Object.keys(configSchema.shape));

/** Values compose would take from the operator's shell or .env for required variables. */
const operatorEnv: Record<string, string> = {
  SEALPOST_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  POSTGRES_PASSWORD: 'f00dfeed',
};

/** Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: string, env: Record<string, string> = operatorEnv): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string | undefined, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const set = env[name!];
    if (op === ':-') return set ? set : arg!;
    if (op === '-') return set ?? arg!;
    if (op === ':?' || op === '?') {
      if (set === undefined || (op === ':?' && set === '')) throw new Error(`compose would stop: ${name} is required (${arg})`);
      return set;
    }
    return set ?? '';
  });
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const entries: Array<[string, string]> = Array.isArray(env)
    ? env.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries);
}

function commandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/) : command;
}

/** Services built from this repository: the Sealpost image. */
const sealpostServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

// --- Dockerfile -----------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

function dockerfileStages(): Instruction[][] {
  const logical = readFileSync(projectPath('Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  // Instructions before the first FROM (global ARGs) belong to no stage.
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

/** Sources of COPY/ADD instructions that come from the build context (not `--from=` another stage). */
function contextSources(stages: Instruction[][]): string[] {
  const sources: string[] = [];
  for (const { keyword, args } of stages.flat()) {
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const words = args.split(/\s+/);
    if (words.some((w) => w.startsWith('--from='))) continue;
    const paths = words.filter((w) => !w.startsWith('--'));
    sources.push(...paths.slice(0, -1));
  }
  return sources;
}

/** Whether a top-level path is sent to the daemon under .dockerignore (last matching rule wins). */
function inBuildContext(path: string): boolean {
  const top = path.replace(/^\.\//, '').split('/')[0]!;
  let included = true;
  for (const raw of readFileSync(projectPath('.dockerignore'), 'utf8').split('\n')) {
    const rule = raw.trim();
    if (!rule || rule.startsWith('#')) continue;
    const negated = rule.startsWith('!');
    const pattern = (negated ? rule.slice(1) : rule).replace(/^\.?\//, '').replace(/\/$/, '');
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    if (regex.test(top)) included = negated;
  }
  return included;
}

/** Module specifiers a compiled file still imports: `import type` and `export type` are erased. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) specifiers.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

const stages = dockerfileStages();
const runtime = stages.at(-1)!;
const buildStages = stages.slice(0, -1);

describe('Dockerfile', () => {
  it('builds in one stage and runs production dependencies in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const built = buildStages.flat().filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(built.some((a) => /\bnpm ci\b/.test(a) && !a.includes('--omit=dev'))).toBe(true);
    expect(built.some((a) => a.includes('npm run build'))).toBe(true);
    const installed = runtime.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(installed.some((a) => /\bnpm ci\b.*--omit=dev/.test(a))).toBe(true);
    expect(runtime.some((i) => i.keyword === 'COPY' && /--from=\S+\s+\S*dist\b/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user, exposes 8080, and checks /healthz', () => {
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args)).toContain('8080');
    const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).not.toMatch(/\b(curl|wget)\b/);
  });

  it('starts the compiled CLI, where tsconfig.build.json puts it', () => {
    const cmd = runtime.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '';
    expect(JSON.parse(cmd)).toEqual(['node', 'dist/src/cli/main.js', 'start']);

    const configFile = projectPath('tsconfig.build.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    expect(parsed?.errors ?? []).toEqual([]);
    const main = projectPath('src', 'cli', 'main.ts');
    expect(parsed!.fileNames.map((f) => projectPath(relative(projectRoot, f)))).toContain(main);
    const outputs = ts.getOutputFileNames(parsed!, main, false).map((f) => relative(projectRoot, f).split('\\').join('/'));
    expect(outputs).toContain('dist/src/cli/main.js');
    // bin/sealpost.js prefers the same file.
    expect(readFileSync(projectPath('bin', 'sealpost.js'), 'utf8')).toContain('../dist/src/cli/main.js');
  });

  it('listens on all interfaces inside the container', () => {
    const env = runtime.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    for (const name of env.match(/\b[A-Z][A-Z0-9_]*(?==)/g) ?? []) {
      if (name !== 'NODE_ENV') expect(configKeys, `ENV ${name}`).toContain(name);
    }
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = contextSources(stages);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'bin', 'migrations', 'openapi', 'wsdl']));
    for (const source of sources) {
      expect(existsSync(projectPath(source)), `COPY ${source}: missing from the repository`).toBe(true);
      expect(inBuildContext(source), `COPY ${source}: excluded by .dockerignore`).toBe(true);
    }
  });

  it('ships every directory the code reads at run time from the package root', () => {
    const copied = runtime
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1))
      .map((source) => source.replace(/^\/app\//, '').replace(/\/$/, ''));
    const read = new Set<string>();
    for (const file of ts.sys.readDirectory(projectPath('src'), ['.ts'])) {
      for (const match of readFileSync(file, 'utf8').matchAll(/projectPath\(\s*'([^']+)'/g)) read.add(match[1]!);
    }
    expect(read.size).toBeGreaterThan(0);
    for (const dir of read) expect(copied, `src reads ${dir}/ at run time; the runtime stage must COPY it`).toContain(dir);
  });

  it('installs every package src imports at run time (the image omits devDependencies)', () => {
    const { dependencies = {} } = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const missing = new Set<string>();
    for (const file of ts.sys.readDirectory(projectPath('src'), ['.ts'])) {
      for (const specifier of runtimeImports(file)) {
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!(name in dependencies)) missing.add(`${name} (${relative(projectRoot, file)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('keeps local state, secrets and build output out of the build context', () => {
    for (const path of ['node_modules', 'dist', 'var', '.env', '.git', 'deploy', 'test']) {
      expect(inBuildContext(path), path).toBe(false);
    }
  });

  it('puts the sealpost command on PATH for compose commands', () => {
    const run = runtime.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' ');
    expect(run).toMatch(/ln -s \/app\/bin\/sealpost\.js \/usr\/local\/bin\/sealpost\b/);
  });
});

describe('docker-compose.yml', () => {
  it('has the services of a deployment', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'migrate', 'api', 'worker', 'mailcatcher']));
    expect(sealpostServices.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'worker']);
  });

  it('gives Sealpost only variables that src/config.ts knows', () => {
    for (const [name, service] of sealpostServices) {
      for (const key of Object.keys(environmentOf(service))) {
        expect(configKeys, `${name}.environment.${key}`).toContain(key);
      }
    }
  });

  it('gives each Sealpost service a configuration that loads, listening on 0.0.0.0', () => {
    for (const [name, service] of sealpostServices) {
      const env = Object.fromEntries(Object.entries(environmentOf(service)).map(([k, v]) => [k, interpolate(v)]));
      expect(env.HOST, `${name}.environment.HOST`).toBe('0.0.0.0');
      expect(env.DATABASE_URL, `${name}.environment.DATABASE_URL`).toMatch(/^postgres(ql)?:\/\/[^@]+@postgres:5432\//);
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('commits no secret: the master key and passwords have no default', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environmentOf(service))) {
        if (/(^|_)(KEY|PASSWORD|SECRET|TOKEN)$/.test(key)) {
          expect(value, `${name}.environment.${key}`).toMatch(/^\$\{[A-Z_]+:?\?[^}]*\}$/);
        }
      }
    }
    expect(() => interpolate(environmentOf(services.api!).SEALPOST_MASTER_KEY!, {})).toThrow(/SEALPOST_MASTER_KEY/);
    expect(environmentOf(services.api!).DATABASE_URL).toMatch(/^postgres:\/\/sealpost:\$\{POSTGRES_PASSWORD:\?[^}]*\}@/);
    expect(composeText).not.toContain(operatorEnv.SEALPOST_MASTER_KEY);
  });

  it('runs the CLI commands that exist', () => {
    expect(commandOf(services.migrate!)).toEqual(['sealpost', 'migrate']);
    expect(commandOf(services.api!)).toEqual(['sealpost', 'serve']);
    expect(commandOf(services.worker!)).toEqual(['sealpost', 'worker']);
  });

  it('lets the worker scale: no host port, no fixed container name', () => {
    const worker = services.worker!;
    expect(worker.ports ?? []).toEqual([]);
    expect(worker.container_name).toBeUndefined();
    expect(worker.hostname).toBeUndefined();
    expect(worker.healthcheck?.disable, 'no HTTP server in a worker for the image health check').toBe(true);
  });

  it('publishes the API on the port it listens on', () => {
    const env = environmentOf(services.api!);
    const port = env.PORT ?? '8080';
    expect((services.api!.ports ?? []).map(String)).toContain(`${port}:${port}`);
  });

  it('delivers to the mail catcher and starts on a healthy, migrated database', () => {
    expect(environmentOf(services.worker!).SMTP_URL).toBe('smtp://mailcatcher:1025');
    expect(JSON.stringify(services.postgres!.healthcheck?.test)).toContain('pg_isready');
    const dependsOn = (s: ComposeService) => s.depends_on as Record<string, { condition?: string }>;
    expect(dependsOn(services.migrate!).postgres?.condition).toBe('service_healthy');
    expect(dependsOn(services.api!).migrate?.condition).toBe('service_completed_successfully');
    expect(dependsOn(services.worker!).migrate?.condition).toBe('service_completed_successfully');
  });

  it('references only files that exist in the repository, and declared volumes', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) {
        const build = typeof service.build === 'string' ? { context: service.build } : service.build;
        const context = projectPath(interpolate(build.context ?? '.'));
        expect(existsSync(context), `${name}.build.context`).toBe(true);
        expect(existsSync(join(context, build.dockerfile ?? 'Dockerfile')), `${name}.build.dockerfile`).toBe(true);
      }
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? interpolate(volume).split(':')[0]! : (volume.source ?? '');
        if (source.startsWith('.')) {
          expect(existsSync(projectPath(source)), `${name}.volumes: ${source} is not in the repository`).toBe(true);
        } else if (!source.startsWith('/')) {
          expect(Object.keys(compose.volumes ?? {}), `${name}.volumes: named volume ${source}`).toContain(source);
        }
      }
    }
  });

  it('keeps the mounted TLS directory free of committed keys', () => {
    const ignore = readFileSync(projectPath('deploy', 'tls', '.gitignore'), 'utf8');
    expect(ignore.split('\n')).toContain('*');
  });
});
