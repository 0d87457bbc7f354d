import { readFile } from 'node:fs/promises';
import { x509 } from './x509.ts';

export type Crl = InstanceType<typeof x509.X509Crl>;

export class CrlFormatError extends Error {
  override name = 'CrlFormatError';
}

const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/g;

/** Every CRL in PEM text (one or more "X509 CRL" blocks) or one DER CRL. */
export function parseCrls(input: string | Uint8Array, source = 'CRL'): Crl[] {
  const text = Buffer.from(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  const ders = text.subarray(0, 64).toString('latin1').includes('-----BEGIN')
    ? [...text.toString('latin1').matchAll(PEM_CRL)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))
    : [text];
  if (ders.length === 0) throw new CrlFormatError(`${source} holds no "BEGIN X509 CRL" or "BEGIN CRL" block`);
  return ders.map((der) => {
    try {
      return new x509.X509Crl(new Uint8Array(der));
    } catch (error) {
      throw new CrlFormatError(`${source} is not a CRL: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** CRLs from configured files (PEM or DER), read once per call; the caller caches and reloads. */
export async function loadCrlFiles(paths: readonly string[]): Promise<Crl[]> {
  const lists = await Promise.all(paths.map(async (path) => parseCrls(await readFile(path), path)));
  return lists.flat();
}

export const crlReasonName = (reason: number | undefined): string | undefined =>
  reason === undefined ? undefined : (x509.X509CrlReason[reason] ?? `reason ${reason}`);
