import { stat } from 'node:fs/promises';
import { loadCrlFiles, type Crl } from './crl.ts';

/** The CRLs in force now. */
export type CrlSource = () => Promise<readonly Crl[]>;

/**
 * CRLs from configured files, re-read when a file changes (checked at most every
 * `checkEveryMs`), so an operator's cron that refreshes them takes effect without
 * a restart. The first load happens here and fails loudly; a later unreadable
 * file keeps the last good set (a stale CRL then fails validation softly, by its
 * nextUpdate, rather than revocation checking silently stopping).
 */
export async function createCrlStore(paths: readonly string[], checkEveryMs = 60_000): Promise<CrlSource> {
  const versionOf = async () => (await Promise.all(paths.map(async (p) => (await stat(p)).mtimeMs))).join(',');
  let crls = await loadCrlFiles(paths);
  let version = await versionOf();
  let checkedAt = Date.now();
  return async () => {
    if (Date.now() - checkedAt >= checkEveryMs) {
      checkedAt = Date.now();
      try {
        const current = await versionOf();
        if (current !== version) {
          crls = await loadCrlFiles(paths);
          version = current;
        }
      } catch {
        // keep the last good set
      }
    }
    return crls;
  };
}
