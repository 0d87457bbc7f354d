/** Logbook event types. Names are part of the API (GET /v1/messages/{id}/events). */
export const EventType = Object.freeze({
  submitted: 'submitted',
  processing: 'processing',
  lease_expired: 'lease_expired',
  delivered: 'delivered',
  retry_scheduled: 'retry_scheduled',
  /** Still not delivered after DELIVERY_DELAY_WARNING_SECONDS; written once per recipient, retries go on. */
  delayed: 'delayed',
  failed: 'failed',
  cancelled: 'cancelled',
  // Recipient portal (docs/modes.md): the same names as the recipient statuses they record.
  opened: 'opened',
  accepted_by_recipient: 'accepted_by_recipient',
  refused: 'refused',
  expired: 'expired',
  /** A portal recipient verified the address by one-time code and accepted the terms (once per address; detail.termsVersion). */
  terms_accepted: 'terms_accepted',
} as const);
export type EventType = (typeof EventType)[keyof typeof EventType];
