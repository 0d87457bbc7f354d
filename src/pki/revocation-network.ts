import type * as pkijs from 'pkijs';
import { createCrlFetcher } from './crl-fetcher.ts';
import { createOcspClient } from './ocsp-client.ts';
import type { OcspMode, RevocationNetwork } from './revocation.ts';

export interface RevocationSettings {
  /** CRL_URLS, comma-separated. */
  crlUrls?: string | undefined;
  /** CRL_FETCH: fetch each certificate's CRL distribution points. */
  crlFetch: 'on' | 'off';
  ocsp: OcspMode;
  ocspUrl?: string | undefined;
  timeoutMs: number;
  engine: pkijs.ICryptoEngine;
}

/** CRLs larger than this are refused (a large public CA's CRL is a few MB). */
export const MAX_CRL_BYTES = 20 * 1024 * 1024;

/** The network sources the settings ask for; undefined when none (no network use at all). */
export function createRevocationNetwork(settings: RevocationSettings): RevocationNetwork | undefined {
  const urls = (settings.crlUrls ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  const distributionPoints = settings.crlFetch === 'on';
  const network: RevocationNetwork = {
    ...((urls.length > 0 || distributionPoints) && {
      crl: { fetcher: createCrlFetcher({ timeoutMs: settings.timeoutMs, maxBytes: MAX_CRL_BYTES }), urls, distributionPoints },
    }),
    ...(settings.ocsp !== 'off' && {
      ocsp: {
        mode: settings.ocsp,
        client: createOcspClient({ timeoutMs: settings.timeoutMs, engine: settings.engine }),
        ...(settings.ocspUrl && { url: new URL(settings.ocspUrl) }),
      },
    }),
  };
  return network.crl || network.ocsp ? network : undefined;
}
