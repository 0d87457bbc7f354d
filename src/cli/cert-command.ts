import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { importRecipientCertificate, importTrustAnchor } from '../core/certificates.ts';
import { AppError } from '../core/errors.ts';
import { importIdentity } from '../core/identities.ts';
import type { Principal } from '../core/principal.ts';
import { findTenant } from '../db/repositories/tenants.ts';
import type { Runtime } from '../runtime.ts';

export const certUsage = `  cert import --tenant <id> (--p12 FILE --password-env VAR | --cert FILE [--key FILE]) [--chain FILE]
              [--scope ADDRESS|DOMAIN] [--recipient | --anchor] [--json]
                                         import a signing identity (default), a recipient certificate
                                         (--recipient) or a trust anchor (--anchor; global without --tenant)`;

/**
 * `sealpost cert import`: the operator acts as the tenant's admin. The PKCS#12
 * password is read from the environment variable --password-env names, never
 * from the command line (where ps and shell history would show it).
 */
export async function certCommand(args: string[], env: NodeJS.ProcessEnv, withRuntime: (run: (runtime: Runtime) => Promise<number>) => Promise<number>): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      p12: { type: 'string' },
      'password-env': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      chain: { type: 'string' },
      scope: { type: 'string' },
      recipient: { type: 'boolean' },
      anchor: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (positionals[0] !== 'import' || (!values.p12 && !values.cert) || (values.p12 && values.cert) || (values.recipient && values.anchor)) {
    console.error(`Usage:\n${certUsage}`);
    return 2;
  }
  if (!values.tenant && !values.anchor) throw new AppError('missing_field', '--tenant is required (only a global --anchor goes without)');
  if ((values.recipient || values.anchor) && (values.p12 || values.key)) throw new AppError('invalid_field', '--recipient and --anchor take --cert only, no private key');

  const read = (path: string, what: string) =>
    readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new AppError('invalid_field', `cannot read ${what} ${path}: ${error.code ?? error.message}`);
    });
  const text = async (path: string | undefined, what: string) => (path === undefined ? undefined : (await read(path, what)).toString('latin1'));

  return withRuntime(async (runtime) => {
    const core = runtime.core;
    let principal: Principal | null = null;
    if (values.tenant) {
      const tenant = /^[0-9a-f-]{36}$/i.test(values.tenant) ? await findTenant(core.db, values.tenant) : undefined;
      if (!tenant) throw new AppError('not_found', `tenant ${values.tenant} does not exist`);
      principal = { tenantId: tenant.id, keyId: 'cli', role: 'admin', senderDomains: tenant.senderDomains };
    }
    const chain = await text(values.chain, 'chain file');
    let result: object;
    let line: string;
    if (values.anchor) {
      const anchor = await importTrustAnchor(core, principal, { certificate: await read(values.cert!, 'certificate file') });
      [result, line] = [anchor, `trust anchor ${anchor.id}${anchor.global ? ' (global)' : ''}: ${anchor.subject} ${anchor.fingerprint}`];
    } else if (values.recipient) {
      const cert = await importRecipientCertificate(core, principal!, { certificate: await read(values.cert!, 'certificate file'), chain, scope: values.scope });
      [result, line] = [cert, `recipient certificate ${cert.id} for ${cert.scope}: ${cert.subject} ${cert.fingerprint}`];
    } else {
      let input: Parameters<typeof importIdentity>[2];
      if (values.p12) {
        const variable = values['password-env'];
        if (!variable) throw new AppError('missing_field', '--password-env VAR is required with --p12 (the password is read from $VAR)');
        const password = env[variable];
        if (password === undefined) throw new AppError('missing_field', `the environment variable ${variable} (--password-env) is not set`);
        input = { pkcs12: await read(values.p12, 'PKCS#12 file'), password, scope: values.scope };
      } else {
        const certText = (await read(values.cert!, 'certificate file')).toString('latin1');
        const keyText = await text(values.key ?? values.cert, 'key file');
        input = { certificate: certText, privateKey: keyText!, chain, scope: values.scope };
      }
      const identity = await importIdentity(core, principal!, input);
      [result, line] = [identity, `signing identity ${identity.id} for ${identity.scope} (${identity.keyAlgorithm}): ${identity.subject}, valid until ${identity.notAfter}`];
    }
    console.log(values.json ? JSON.stringify(result, null, 2) : line);
    return 0;
  });
}
