/** Logbook event types. Names are part of the API (GET /v1/messages/{id}/events). */
export const EventType = Object.freeze({
  submitted: 'submitted',
  processing: 'processing',
  lease_expired: 'lease_expired',
  delivered: 'delivered',
  retry_scheduled: 'retry_scheduled',
  failed: 'failed',
  cancelled: 'cancelled',
} as const);
export type EventType = (typeof EventType)[keyof typeof EventType];
