import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { openRuntime, startDelivery, type Runtime } from '../runtime.ts';
import { listen } from '../server.ts';
import { createApiKey, createTenant } from '../core/tenants.ts';
import { AppError } from '../core/errors.ts';
import { roles, type Role } from '../core/states.ts';
import { certCommand, certUsage } from './cert-command.ts';
import { policyCommand, policyUsage } from './policy-command.ts';
import { webhookCommand, webhookUsage } from './webhook-command.ts';
import { configCommand, configUsage } from './config-command.ts';
import { proofCommand, proofUsage } from './proof-command.ts';
import { proofExportCommand, proofExportUsage } from './proof-export-command.ts';
import { listenForMetrics } from '../observability/metrics-server.ts';
import { startSmtpIngress } from '../ingress/smtp-ingress.ts';

const usage = `Usage: sealpost <command> [options]

Commands:
  start                                  HTTP API and delivery worker in one process (npm start)
  serve                                  HTTP API only
  worker                                 delivery worker only
  migrate                                apply database migrations and exit
  tenant create <name> [--sender-domain D]... [--role R] [--json]
                                         create a tenant and its first API key (role: submitter)
  key create --tenant <id> --role <submitter|auditor|admin> [--password-digest] [--json]
                                         create another API key for a tenant; --password-digest
                                         also keeps its secret sealed so SOAP clients may use
                                         WS-Security PasswordDigest
${certUsage}
${policyUsage}
${webhookUsage}
${configUsage}
${proofUsage}
${proofExportUsage}

Configuration comes from environment variables: see docs/configuration.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(usage);
    return command ? 0 : 2;
  }
  if (command === 'config') return configCommand(rest, process.env);
  // Offline: no configuration, no database (an auditor's machine).
  if (command === 'proof' && rest[0] !== 'export') return proofCommand(rest);
  const config = loadConfig(process.env);
  switch (command) {
    case 'start':
      return runLongLived(config, { http: true, worker: config.WORKER_ENABLED });
    case 'serve':
      return runLongLived(config, { http: true, worker: false });
    case 'worker':
      return runLongLived(config, { http: false, worker: true });
    case 'migrate':
      return withRuntime(config, async () => 0);
    case 'tenant':
      return tenantCommand(config, rest);
    case 'key':
      return keyCommand(config, rest);
    case 'cert':
      return certCommand(rest, process.env, (run) => withRuntime(config, run));
    case 'policy':
      return policyCommand(rest, process.env, (run) => withRuntime(config, run));
    case 'webhook':
      return webhookCommand(rest, (run) => withRuntime(config, run));
    case 'proof':
      return proofExportCommand(rest.slice(1), (run) => withRuntime(config, run));
    default:
      console.error(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

/** Runs until SIGINT/SIGTERM, then stops accepting, finishes in-flight work and closes everything. */
async function runLongLived(config: Config, parts: { http: boolean; worker: boolean }): Promise<number> {
  const log = createLogger(config.LOG_LEVEL);
  const runtime = await openRuntime(config, log);
  const app = parts.http ? await listen(runtime) : undefined;
  // The SMTP door runs beside the HTTP doors when SMTP_INGRESS_PORT is set (docs/ingress.md).
  const ingress = parts.http && config.SMTP_INGRESS_PORT !== undefined ? await startSmtpIngress(runtime) : undefined;
  const delivery = parts.worker ? await startDelivery(runtime) : undefined;
  const metricsListener = config.METRICS_PORT === undefined ? undefined : await listenForMetrics(runtime.metrics, { host: config.HOST, port: config.METRICS_PORT, log });
  log.info({ http: parts.http, worker: parts.worker }, 'sealpost running');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app?.close();
  await ingress?.close();
  await metricsListener?.close();
  await delivery?.close();
  await runtime.close();
  log.info('stopped');
  return 0;
}

async function withRuntime(config: Config, run: (runtime: Runtime) => Promise<number>): Promise<number> {
  const log: Logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, 'stderr');
  const runtime = await openRuntime(config, log);
  try {
    return await run(runtime);
  } finally {
    await runtime.close();
  }
}

async function tenantCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'sender-domain': { type: 'string', multiple: true },
      role: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [sub, name] = positionals;
  if (sub !== 'create' || !name) {
    console.error(usage);
    return 2;
  }
  const role = values.role ?? 'submitter';
  if (!roles.includes(role as Role)) throw new AppError('invalid_field', `--role must be one of ${roles.join(', ')}`);
  return withRuntime(config, async (runtime) => {
    const created = await createTenant(runtime.database.db, name, {
      senderDomains: values['sender-domain'] ?? [],
      role: role as Role,
    });
    print(values.json, created, [
      `tenant ${created.name}: ${created.tenantId}`,
      `sender domains: ${created.senderDomains.length ? created.senderDomains.join(', ') : '(any)'}`,
      `${created.role} API key (shown once): ${created.apiKey}`,
    ]);
    return 0;
  });
}

async function keyCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, role: { type: 'string' }, 'password-digest': { type: 'boolean' }, json: { type: 'boolean' } },
  });
  if (positionals[0] !== 'create' || !values.tenant || !values.role) {
    console.error(usage);
    return 2;
  }
  const tenant = values.tenant;
  const role = values.role;
  return withRuntime(config, async (runtime) => {
    const created = await createApiKey(runtime.database.db, tenant, role, {
      ...(values['password-digest'] && { passwordDigest: runtime.cipher }),
    });
    print(values.json, created, [`${created.role} API key for tenant ${created.tenantId} (shown once): ${created.apiKey}`]);
    return 0;
  });
}

function print(json: boolean | undefined, value: object, lines: string[]): void {
  console.log(json ? JSON.stringify(value, null, 2) : lines.join('\n'));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof AppError) console.error(`sealpost: ${error.message}`);
    else if ((error as { code?: string } | undefined)?.code?.startsWith('ERR_PARSE_ARGS')) console.error(`sealpost: ${(error as Error).message}`);
    else console.error('sealpost: failed:', error);
    process.exit(1);
  },
);
