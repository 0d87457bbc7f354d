import { parseCrls, type Crl } from './crl.ts';
import { fetchBytes, type FetchLimits } from './http-fetch.ts';

export interface FetchedCrls {
  crls: Crl[];
  /** URLs that have never answered with a CRL, each with why: revocation status unknown for what they cover. */
  failures: string[];
}

/** CRLs by URL, from memory while fresh, over HTTP otherwise. */
export interface CrlFetcher {
  crlsFrom(urls: readonly string[], at: Date): Promise<FetchedCrls>;
}

export interface CrlFetcherOptions extends FetchLimits {
  /** After a failed fetch, the URL is not tried again for this long (the last good CRL, if any, is used). */
  retryAfterMs?: number;
  /** A CRL without nextUpdate is fetched again after this long. */
  maxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  crls?: Crl[];
  fetchedAt: number;
  failedAt?: number;
  failure?: string;
  inFlight?: Promise<void>;
}

const MAX_ENTRIES = 1000;

/**
 * Keeps the last good CRL of each URL. A URL is fetched when it has none, or
 * when its CRL is past nextUpdate at the time of use (or older than maxAgeMs
 * without one); concurrent callers share one fetch. A failed refresh keeps the
 * last good CRL, which then fails validation softly by its nextUpdate, like a
 * stale CRL file. Signatures are not checked here: validate.ts checks each CRL
 * against the key of the issuer it is used for.
 */
export function createCrlFetcher(options: CrlFetcherOptions): CrlFetcher {
  const retryAfterMs = options.retryAfterMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 3600_000;
  const now = options.now ?? Date.now;
  const limits: FetchLimits = { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes };
  const cache = new Map<string, Entry>();

  const fresh = (entry: Entry, at: Date) =>
    entry.crls !== undefined &&
    entry.crls.every((crl) => (crl.nextUpdate ? crl.nextUpdate >= at : now() - entry.fetchedAt < maxAgeMs));

  async function refresh(url: string, entry: Entry): Promise<void> {
    try {
      const body = await fetchBytes(new URL(url), limits);
      entry.crls = parseCrls(body, url);
      entry.fetchedAt = now();
      delete entry.failure;
      delete entry.failedAt;
    } catch (error) {
      entry.failedAt = now();
      entry.failure = (error as Error).message; // names the URL (fetchBytes, parseCrls)
    }
  }

  async function load(url: string, at: Date): Promise<Entry> {
    let entry = cache.get(url);
    if (!entry) {
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      entry = { fetchedAt: 0 };
      cache.set(url, entry);
    }
    if (fresh(entry, at)) return entry;
    if (entry.failedAt !== undefined && now() - entry.failedAt < retryAfterMs) return entry;
    const current = entry;
    current.inFlight ??= refresh(url, current).finally(() => delete current.inFlight);
    await current.inFlight;
    return current;
  }

  return {
    async crlsFrom(urls, at) {
      const entries = await Promise.all([...new Set(urls)].map((url) => load(url, at)));
      return {
        crls: entries.flatMap((e) => e.crls ?? []),
        failures: entries.filter((e) => e.crls === undefined && e.failure).map((e) => `the CRL at ${e.failure}`),
      };
    },
  };
}
