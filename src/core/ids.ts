const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids of messages, recipients, tenants and certificates are UUIDs; anything else cannot name one. */
export const isUuid = (id: string): boolean => UUID.test(id);
