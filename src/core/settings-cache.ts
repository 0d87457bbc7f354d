/**
 * What a worker reads for every copy but an administrator changes rarely: a
 * tenant's trust anchors, signing identities, recipient certificates and
 * transport policies. The cache keeps the rows, never a decision: certificates
 * are still validated at the time of each use (expiry, revocation), so only
 * what is stored is remembered.
 *
 * A change is seen through PostgreSQL, not through the code that made it: every
 * statement that writes one of those tables, whoever runs it (the API, the CLI,
 * the SMTP ingress harvesting a certificate, psql), raises `settings_version`
 * in its own transaction (a trigger, migrations/0014). The claim query returns
 * that version and the worker hands it to `observe` before running the jobs, so
 * a job claimed after a change committed is never prepared from rows cached
 * before it: importing a certificate and then submitting a message encrypts that
 * message.
 */
export interface SettingsCache {
  /** The value under `key` for the tenant, loading it (once, however many ask at the same time) when absent. */
  read<T>(tenantId: string, key: string, load: () => Promise<T>): Promise<T>;
  /** The settings version read with a claim: a different one than last seen drops every entry. */
  observe(version: number): void;
  /** Entries held now, for metrics and tests. */
  readonly size: number;
}

export function createSettingsCache(options: { maxEntries?: number } = {}): SettingsCache {
  const maxEntries = options.maxEntries ?? 10_000;
  // Insertion order is age order: the first entry is the oldest, dropped first when full. A value is stored
  // (as its promise) when loading begins, so a version change during the load drops it too.
  const entries = new Map<string, Promise<unknown>>();
  let seen: number | undefined;
  const keyOf = (tenantId: string, key: string) => `${tenantId}\u0000${key}`;

  return {
    read<T>(tenantId: string, key: string, load: () => Promise<T>): Promise<T> {
      const k = keyOf(tenantId, key);
      const hit = entries.get(k);
      if (hit) return hit as Promise<T>;
      // Resolved once here: a query builder is a thenable that would run its query again at every await.
      const value = Promise.resolve(load());
      // A failed load is not remembered: the next reader tries again.
      value.catch(() => {
        if (entries.get(k) === value) entries.delete(k);
      });
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(k, value);
      return value;
    },
    observe(version) {
      if (version !== seen) entries.clear();
      seen = version;
    },
    get size() {
      return entries.size;
    },
  };
}

/** Reads through the context's cache when it has one (the worker), else straight from the database (the API, the CLI). */
export function readSetting<T>(ctx: { settings?: SettingsCache | undefined }, tenantId: string, key: string, load: () => Promise<T>): Promise<T> {
  return ctx.settings ? ctx.settings.read(tenantId, key, load) : load();
}
