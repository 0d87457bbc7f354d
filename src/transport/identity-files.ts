import { readFile, stat } from 'node:fs/promises';

/** How long a read client certificate or key is used before its file is checked again. */
export const IDENTITY_RECHECK_MS = 5_000;

/**
 * The mutual-TLS client certificate and key files, kept in memory per path so a
 * send reads no file. A file is checked again (one stat) when its copy is older
 * than `recheckMs`, and read again only when it changed (device, inode, size,
 * mtime or ctime): a replaced or rewritten file takes effect within `recheckMs`.
 * A file that cannot be read is never remembered: the read rejects with the
 * filesystem's error every time, and the next send tries again.
 */
export interface IdentityFiles {
  read(path: string): Promise<Buffer>;
}

interface Entry {
  data: Buffer;
  version: string;
  checkedAt: number;
}

export function createIdentityFiles(options: { recheckMs?: number | undefined; now?: () => number } = {}): IdentityFiles {
  const recheckMs = options.recheckMs ?? IDENTITY_RECHECK_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // One check per path at a time, however many sends ask for it meanwhile.
  const checking = new Map<string, Promise<Buffer>>();

  async function check(path: string, entry: Entry | undefined): Promise<Buffer> {
    try {
      const s = await stat(path);
      const version = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      if (entry && entry.version === version) {
        entry.checkedAt = now();
        return entry.data;
      }
      // Stat before read: a file rewritten in between has another version by the next check and is read again then.
      const data = await readFile(path);
      entries.set(path, { data, version, checkedAt: now() });
      return data;
    } catch (error) {
      entries.delete(path);
      throw error;
    }
  }

  return {
    async read(path) {
      const entry = entries.get(path);
      if (entry && now() - entry.checkedAt < recheckMs) return entry.data;
      let pending = checking.get(path);
      if (!pending) {
        pending = check(path, entry).finally(() => checking.delete(path));
        checking.set(path, pending);
      }
      return pending;
    },
  };
}
