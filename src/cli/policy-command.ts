import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { listTransportPoliciesFor, putTransportPolicy, removeTransportPolicy, type TransportPolicyView } from '../core/transport-policies.ts';
import { findTenant } from '../db/repositories/tenants.ts';
import type { Runtime } from '../runtime.ts';

export const policyUsage = `  policy set <domain> --tenant <id> --policy opportunistic|enforced-tls|mutual-tls [--route mx|relay]
             [--relay-url-env VAR] [--ca FILE] [--client-cert FILE --client-key FILE] [--business] [--json]
                                         create or replace a recipient domain's transport policy; the relay
                                         URL (it may hold a password) is read from $VAR (docs/transport.md)
  policy list --tenant <id> [--json]     the tenant's transport policies
  policy delete <domain> --tenant <id>   remove one (the default policy applies again)`;

/** `sealpost policy`: the operator acts as the tenant's admin, through the same core functions as REST. */
export async function policyCommand(args: string[], env: NodeJS.ProcessEnv, withRuntime: (run: (runtime: Runtime) => Promise<number>) => Promise<number>): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      policy: { type: 'string' },
      route: { type: 'string' },
      'relay-url-env': { type: 'string' },
      ca: { type: 'string' },
      'client-cert': { type: 'string' },
      'client-key': { type: 'string' },
      business: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const [action, domain] = positionals;
  const needsDomain = action === 'set' || action === 'delete';
  if (!['set', 'list', 'delete'].includes(action ?? '') || (needsDomain && !domain) || positionals.length > (needsDomain ? 2 : 1)) {
    console.error(`Usage:\n${policyUsage}`);
    return 2;
  }
  if (!values.tenant) throw new AppError('missing_field', '--tenant is required');
  if (action === 'set' && !values.policy) throw new AppError('missing_field', '--policy is required (opportunistic, enforced-tls or mutual-tls)');
  let relayUrl: string | undefined;
  if (values['relay-url-env']) {
    relayUrl = env[values['relay-url-env']];
    if (relayUrl === undefined) throw new AppError('missing_field', `the environment variable ${values['relay-url-env']} (--relay-url-env) is not set`);
  }
  const caPem = values.ca
    ? (
        await readFile(values.ca).catch((error: NodeJS.ErrnoException) => {
          throw new AppError('invalid_field', `cannot read CA file ${values.ca}: ${error.code ?? error.message}`);
        })
      ).toString('latin1')
    : undefined;

  return withRuntime(async (runtime) => {
    const core = runtime.core;
    const tenant = /^[0-9a-f-]{36}$/i.test(values.tenant!) ? await findTenant(core.db, values.tenant!) : undefined;
    if (!tenant) throw new AppError('not_found', `tenant ${values.tenant} does not exist`);
    const principal: Principal = { tenantId: tenant.id, keyId: 'cli', role: 'admin', senderDomains: tenant.senderDomains };
    if (action === 'list') {
      const items = await listTransportPoliciesFor(core, principal);
      console.log(values.json ? JSON.stringify({ items }, null, 2) : items.map(line).join('\n') || 'no transport policies (the default applies to every domain)');
      return 0;
    }
    if (action === 'delete') {
      await removeTransportPolicy(core, principal, domain!);
      console.log(`transport policy for ${domain} deleted`);
      return 0;
    }
    const { policy, created } = await putTransportPolicy(core, principal, domain!, {
      policy: values.policy!,
      route: values.route,
      relayUrl,
      caPem,
      clientCertFile: values['client-cert'] ? resolve(values['client-cert']) : undefined,
      clientKeyFile: values['client-key'] ? resolve(values['client-key']) : undefined,
      business: values.business ?? false,
    });
    console.log(values.json ? JSON.stringify(policy, null, 2) : `${created ? 'created' : 'replaced'}: ${line(policy)}`);
    return 0;
  });
}

function line(p: TransportPolicyView): string {
  const extras = [p.relay && `relay ${p.relay}`, p.caPem && 'pinned CA', p.clientCertFile && `client cert ${p.clientCertFile}`, p.business && 'business'].filter(Boolean);
  return `${p.domain}: ${p.policy} via ${p.route}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}
