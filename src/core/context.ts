import type { Db } from '../db/client.ts';
import type { CrlSource } from '../pki/crl-store.ts';
import type { RevocationNetwork } from '../pki/revocation.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { SettingsCache } from './settings-cache.ts';
import type { SubmissionLimits } from './submission.ts';
import type { SubmissionMetrics } from './submit-message.ts';

/** What the use cases need from the outside world, assembled once in the composition root. */
export interface CoreContext {
  db: Db;
  cipher: ContentCipher;
  limits: SubmissionLimits;
  /** Where submissions are counted (src/observability/metrics.ts); optional, so a use case never depends on it. */
  metrics?: SubmissionMetrics;
  /** Certificate revocation lists from CRL_FILES; without it, revocation is not checked. */
  crls?: CrlSource;
  /** CRLs by URL and OCSP (CRL_URLS, CRL_FETCH, OCSP); without it, only CRL_FILES are consulted. */
  revocation?: RevocationNetwork;
  /** The worker's cache of certificates, identities, trust anchors and policies (src/core/settings-cache.ts); the API reads fresh. */
  settings?: SettingsCache;
}
