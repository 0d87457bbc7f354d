import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

export interface CertificateExpiry {
  tenantId: string;
  usage: 'signing';
  notAfter: Date;
}

/**
 * The soonest expiry among each tenant's signing identities that are not retired,
 * expired ones included (so an alert on "expires within 14 days" keeps firing
 * after the date rather than going quiet), for the metrics scrape.
 */
export async function readCertificateExpiry(db: DbOrTx): Promise<CertificateExpiry[]> {
  const result = await db.execute<{ tenant_id: string; not_after: Date }>(sql`
    SELECT tenant_id, min(not_after) AS not_after
      FROM signing_identities
     WHERE retired_at IS NULL
     GROUP BY tenant_id`);
  return result.rows.map((r) => ({ tenantId: r.tenant_id, usage: 'signing', notAfter: new Date(r.not_after) }));
}
