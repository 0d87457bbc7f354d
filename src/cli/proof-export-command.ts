import { parseArgs } from 'node:util';
import { AppError } from '../core/errors.ts';
import { checkProofExport, exportProofs, type ProofExportProgress, type ProofExportRequest } from '../core/proof-export.ts';
import type { Runtime } from '../runtime.ts';

export const proofExportUsage = `  proof export --tenant <id> --from <YYYY-MM-DD> --to <YYYY-MM-DD> --out <file.zip> [--pdf] [--max-proofs N]
                                         every proof of the tenant's messages submitted in the period (UTC days,
                                         inclusive) into a zip with manifest.json; --pdf adds the receipts.
                                         Resumable: an interrupted run leaves <file.zip>.partial and
                                         <file.zip>.state.json, and the same command continues it (docs/evidence.md).
                                         Exit 0 done, 2 bad input, 3 stopped early (run again), 130 Ctrl-C`;

/** Exit code of a run that stopped early (--max-proofs): the export is not finished, run the same command again. */
const STOPPED = 3;
const INTERRUPTED = 130;

/** `sealpost proof export`: the operator exports a period of a tenant's proofs for an auditor. */
export async function proofExportCommand(args: string[], withRuntime: (run: (runtime: Runtime) => Promise<number>) => Promise<number>): Promise<number> {
  let request: ProofExportRequest;
  let maxProofs: number | undefined;
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string' },
        pdf: { type: 'boolean' },
        'max-proofs': { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new AppError('invalid_field', `unexpected argument ${positionals[0]}`);
    for (const flag of ['tenant', 'from', 'to', 'out'] as const) {
      if (!values[flag]) throw new AppError('missing_field', `--${flag} is required`, { field: flag });
    }
    if (values['max-proofs'] !== undefined) {
      if (!/^[1-9][0-9]{0,8}$/.test(values['max-proofs'])) throw new AppError('invalid_field', '--max-proofs must be a positive whole number', { field: 'max-proofs' });
      maxProofs = Number(values['max-proofs']);
    }
    request = { tenantId: values.tenant!, from: values.from!, to: values.to!, out: values.out!, pdf: values.pdf ?? false };
  } catch (error) {
    return usageError(error);
  }

  return withRuntime(async (runtime) => {
    try {
      await checkProofExport(runtime.database.db, request);
    } catch (error) {
      return usageError(error);
    }
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = progressPrinter();
    try {
      const result = await exportProofs(runtime.database.db, request, {
        onProgress: progress.update,
        shouldStop: () => interrupted,
        ...(maxProofs !== undefined && { maxProofs }),
      });
      progress.done();
      const earlier = result.resumed > 0 ? ` (${result.resumed} from an earlier run)` : '';
      if (result.kind === 'complete') {
        console.error(`proof export: ${result.proofs} proof(s)${earlier} written to ${result.out}`);
        return 0;
      }
      console.error(
        `proof export: ${interrupted ? 'interrupted' : 'stopped'} after ${result.proofs} proof(s)${earlier}; ` +
          `${result.partial} and ${result.state} keep the progress: run the same command again to continue`,
      );
      return interrupted ? INTERRUPTED : STOPPED;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

function usageError(error: unknown): number {
  if (!(error instanceof AppError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
  console.error(`sealpost proof export: ${(error as Error).message}\n\nUsage:\n${proofExportUsage}`);
  return 2;
}

/** On a terminal: a line rewritten at most once a second. Otherwise silent (the final line says it all). */
function progressPrinter(): { update: (p: ProofExportProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(p) {
      if (!tty || Date.now() - last < 1000) return;
      last = Date.now();
      shown = true;
      process.stderr.write(`\rproof export: ${p.proofs} proof(s) written${p.resumed ? ` (${p.resumed} resumed)` : ''}…`);
    },
    done() {
      if (shown) process.stderr.write('\n');
    },
  };
}
