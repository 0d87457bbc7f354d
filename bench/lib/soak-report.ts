import { adminQuery } from './database.ts';
import type { ReceivedCopy } from './digest-smtp-peer.ts';

/** What the soak knows of one acknowledged recipient: its payslip and the digest of the attachment it sent. */
export interface AcknowledgedCopy {
  index: number;
  door: 'rest' | 'soap';
  attachmentDigest: string;
}

export interface Reconciliation {
  delivered: number;
  lost: number;
  /** Copies beyond the first, over all Message-IDs. */
  duplicates: number;
  /** Message-IDs received more than once. */
  duplicated: string[];
  /** Copies carrying the payslip whose attachment differs from the one submitted. */
  corrupted: number;
  /** Copies received over a session without TLS. */
  plaintext: number;
  withContent: number;
  notifications: number;
  /** Message-IDs received that no acknowledged submission names. */
  unacknowledgedArrivals: number;
  /** performance.now() of the last acknowledged recipient's first copy. */
  lastFirstArrival: number | undefined;
}

/** Every acknowledged recipient looked up at the peer by its Message-ID (`messageIdOf`). */
export function reconcile(
  acknowledged: Map<string, AcknowledgedCopy>,
  copies: Map<string, ReceivedCopy[]>,
  messageIdOf: (recipientId: string) => string,
): Reconciliation {
  const result: Reconciliation = {
    delivered: 0,
    lost: 0,
    duplicates: 0,
    duplicated: [],
    corrupted: 0,
    plaintext: 0,
    withContent: 0,
    notifications: 0,
    unacknowledgedArrivals: 0,
    lastFirstArrival: undefined,
  };
  const expected = new Set<string>();
  for (const [recipientId, ack] of acknowledged) {
    const messageId = messageIdOf(recipientId);
    expected.add(messageId);
    const received = copies.get(messageId);
    if (!received) {
      result.lost++;
      continue;
    }
    result.delivered++;
    result.lastFirstArrival = Math.max(result.lastFirstArrival ?? 0, received[0]!.at);
    result.corrupted += received.filter((c) => c.attachmentSha256 !== undefined && c.attachmentSha256 !== ack.attachmentDigest).length;
  }
  for (const [messageId, received] of copies) {
    if (!expected.has(messageId)) result.unacknowledgedArrivals++;
    if (received.length > 1) {
      result.duplicates += received.length - 1;
      result.duplicated.push(messageId);
    }
    result.plaintext += received.filter((c) => !c.secure).length;
    result.withContent += received.filter((c) => c.attachmentSha256 !== undefined).length;
    result.notifications += received.filter((c) => c.notification).length;
  }
  return result;
}

export interface LogbookFigures {
  /** Recipients with a `lease_expired` event flagged `possibleDuplicate`. */
  flaggedRecipientIds: Set<string>;
  recipientStates: Record<string, number>;
  eventCounts: Record<string, number>;
  committedMessages: number;
  /** For up to 20 duplicated recipients: their logbook, times in seconds since `t0Epoch`. */
  trails: Record<string, Array<{ type: string; actor: string; at: number }>>;
}

/** What the database says about the run; empty figures where it cannot be read. */
export async function readLogbook(url: string, duplicatedRecipientIds: string[], t0Epoch: number): Promise<LogbookFigures> {
  const rows = <T extends Record<string, unknown>>(sql: string) => adminQuery<T>(url, sql).catch((): T[] => []);
  const flagged = await rows<{ recipient_id: string }>(
    `SELECT DISTINCT recipient_id FROM events WHERE type = 'lease_expired' AND (detail->>'possibleDuplicate')::boolean`,
  );
  const states = await rows<{ status: string; n: number }>(`SELECT status::text, count(*)::int AS n FROM recipients GROUP BY 1 ORDER BY 1`);
  const events = await rows<{ type: string; n: number }>(`SELECT type, count(*)::int AS n FROM events GROUP BY 1 ORDER BY 1`);
  const committed = await rows<{ n: number }>(`SELECT count(*)::int AS n FROM messages`);
  const trails: LogbookFigures['trails'] = {};
  for (const id of duplicatedRecipientIds.slice(0, 20)) {
    if (!/^[0-9a-f-]{36}$/.test(id)) continue;
    const trail = await rows<{ type: string; actor: string; at: number }>(
      `SELECT type, actor, extract(epoch FROM created_at)::float AS at FROM events WHERE recipient_id = '${id}' ORDER BY id`,
    );
    trails[id] = trail.map((e) => ({ ...e, at: Math.round((e.at - t0Epoch / 1000) * 100) / 100 }));
  }
  return {
    flaggedRecipientIds: new Set(flagged.map((r) => r.recipient_id)),
    recipientStates: Object.fromEntries(states.map((r) => [r.status, r.n])),
    eventCounts: Object.fromEntries(events.map((r) => [r.type, r.n])),
    committedMessages: committed[0]?.n ?? -1,
    trails,
  };
}

/** A two-column Markdown table (prints readably in a terminal, pastes into docs). */
export function markdownTable(rows: Array<[string, string]>): string {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n');
}
