/** What the portal counts (src/observability/metrics.ts): recipients' outcomes and account security events. */
export const portalEvents = ['opened', 'accepted_by_recipient', 'refused', 'expired', 'login', 'login_failed', 'lockout'] as const;
export type PortalEvent = (typeof portalEvents)[number];

/** Optional everywhere: the portal works the same without it. */
export interface PortalMetrics {
  portalEvent(event: PortalEvent): void;
}
