import { parseArgs } from 'node:util';
import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { getWebhook, putWebhook, removeWebhook, type WebhookView } from '../core/webhooks.ts';
import { findTenant } from '../db/repositories/tenants.ts';
import type { Runtime } from '../runtime.ts';

export const webhookUsage = `  webhook set <url> --tenant <id> [--rotate-secret] [--json]
                                         register (or change) the tenant's webhook URL; a new webhook
                                         or --rotate-secret prints its signing secret once (docs/webhooks.md)
  webhook show --tenant <id> [--json]    the tenant's webhook
  webhook delete --tenant <id>           remove it`;

/** `sealpost webhook`: the operator acts as the tenant's admin, through the same core functions as REST. */
export async function webhookCommand(args: string[], withRuntime: (run: (runtime: Runtime) => Promise<number>) => Promise<number>): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, 'rotate-secret': { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const [action, url] = positionals;
  if (!['set', 'show', 'delete'].includes(action ?? '') || (action === 'set' ? !url || positionals.length > 2 : positionals.length > 1)) {
    console.error(`Usage:\n${webhookUsage}`);
    return 2;
  }
  if (!values.tenant) throw new AppError('missing_field', '--tenant is required');
  return withRuntime(async (runtime) => {
    const core = runtime.core;
    const tenant = /^[0-9a-f-]{36}$/i.test(values.tenant!) ? await findTenant(core.db, values.tenant!) : undefined;
    if (!tenant) throw new AppError('not_found', `tenant ${values.tenant} does not exist`);
    const principal: Principal = { tenantId: tenant.id, keyId: 'cli', role: 'admin', senderDomains: tenant.senderDomains };
    if (action === 'show') {
      const webhook = await getWebhook(core, principal);
      console.log(values.json ? JSON.stringify(webhook, null, 2) : line(webhook));
      return 0;
    }
    if (action === 'delete') {
      await removeWebhook(core, principal);
      console.log('webhook deleted');
      return 0;
    }
    const { webhook, created, secret } = await putWebhook(core, principal, { url: url!, rotateSecret: values['rotate-secret'] ?? false });
    if (values.json) console.log(JSON.stringify({ ...webhook, ...(secret && { secret }) }, null, 2));
    else {
      console.log(`${created ? 'created' : 'changed'}: ${line(webhook)}`);
      if (secret) console.log(`signing secret (shown once): ${secret}`);
    }
    return 0;
  });
}

const line = (w: WebhookView) => `${w.url} (events: ${w.events.join(', ')})`;
