/** LISTEN/NOTIFY channel that wakes workers when a delivery becomes due. */
export const OUTBOX_CHANNEL = 'sealpost_outbox';
