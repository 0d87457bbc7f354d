import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';

const KEY_BYTES = 32;

/** Accepts 32 bytes as base64 (standard or url-safe) or as 64 hex digits. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(`SEALPOST_MASTER_KEY must be ${KEY_BYTES} bytes as base64 or hex (got ${key.length} bytes)`);
  }
  return key;
}

/**
 * The configured master key, or, for development, one generated once under the
 * data directory. The dev key is announced loudly: content encrypted with it is
 * only as safe as the file beside the database.
 */
export function loadMasterKey(configured: string | undefined, dataDir: string, log: Logger): Buffer {
  if (configured) return parseMasterKey(configured);
  const path = join(dataDir, 'master.key');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  log.warn(
    { path },
    'SEALPOST_MASTER_KEY is not set: using a development master key stored beside the data. ' +
      'Set SEALPOST_MASTER_KEY (32 random bytes, base64) in any real deployment.',
  );
  return parseMasterKey(readFileSync(path, 'utf8'));
}
