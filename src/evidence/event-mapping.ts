/**
 * The one table from logbook event types (src/core/event-types.ts) to the
 * evidence types of ETSI EN 319 522-2 (the ERDS event model). A logbook event
 * whose type is not here gets no evidence (processing, retries, cancellation are
 * internal steps, not registered-delivery events). docs/evidence.md shows this table.
 */
export const EvidenceType = Object.freeze({
  SubmissionAcceptance: 'SubmissionAcceptance',
  SubmissionRejection: 'SubmissionRejection',
  ContentConsignment: 'ContentConsignment',
  ContentConsignmentFailure: 'ContentConsignmentFailure',
  NotificationForAcceptance: 'NotificationForAcceptance',
  ContentHandover: 'ContentHandover',
  ConsignmentAcceptance: 'ConsignmentAcceptance',
  ConsignmentRejection: 'ConsignmentRejection',
  AcceptanceRejectionExpiry: 'AcceptanceRejectionExpiry',
} as const);
export type EvidenceType = (typeof EvidenceType)[keyof typeof EvidenceType];

/** Logbook event types that yield evidence. Portal types (opened … expired) are named here before they exist elsewhere. */
export const evidenceEventTypes = ['submitted', 'delivered', 'failed', 'opened', 'accepted_by_recipient', 'refused', 'expired'] as const;

export const isEvidenceWorthy = (eventType: string): boolean => (evidenceEventTypes as readonly string[]).includes(eventType);

/**
 * The evidence type of one logbook event, or undefined when it yields none.
 * `delivered` depends on how the copy went: handed to the recipient's MTA (route
 * `smime`, `signed` or none) is ContentConsignment; a portal notification
 * (route `portal`) is NotificationForAcceptance, the content waits in the portal.
 */
export function evidenceTypeOf(eventType: string, detail: Record<string, unknown>): EvidenceType | undefined {
  switch (eventType) {
    case 'submitted':
      return EvidenceType.SubmissionAcceptance;
    case 'delivered':
      return detail.route === 'portal' ? EvidenceType.NotificationForAcceptance : EvidenceType.ContentConsignment;
    case 'failed':
      return EvidenceType.ContentConsignmentFailure;
    case 'opened':
      return EvidenceType.ContentHandover;
    case 'accepted_by_recipient':
      return EvidenceType.ConsignmentAcceptance;
    case 'refused':
      return EvidenceType.ConsignmentRejection;
    case 'expired':
      return EvidenceType.AcceptanceRejectionExpiry;
    default:
      return undefined;
  }
}

/** ERDSEventId as EN 319 522-3 writes it: a URI per event. */
export const erdsEventId = (type: EvidenceType) => `http://uri.etsi.org/19522/Event/${type}`;
