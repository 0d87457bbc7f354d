import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';

/** How long a nonce is remembered: longer than the window in which its Created time is accepted. */
const RETENTION = '10 minutes';

/**
 * Records a nonce for a key; false when it was seen already (a replay). Forgets
 * the key's nonces older than the retention in the same statement.
 */
export async function recordNonce(db: DbOrTx, keyId: string, nonceHash: Buffer): Promise<boolean> {
  const result = await db.execute(sql`
    WITH forgotten AS (
      DELETE FROM used_nonces WHERE key_id = ${keyId} AND seen_at < now() - ${RETENTION}::interval
    )
    INSERT INTO used_nonces (key_id, nonce_hash) VALUES (${keyId}, ${nonceHash})
    ON CONFLICT DO NOTHING
    RETURNING 1`);
  return result.rows.length === 1;
}
