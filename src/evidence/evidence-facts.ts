import type { EvidenceType } from './event-mapping.ts';

/**
 * Everything one piece of evidence states, as data: the XML (evidence-xml.ts)
 * and the PDF receipt (receipt-pdf.ts) are both rendered from it, and it is
 * stored beside the signed bytes so a receipt never has to re-read the XML.
 */
export interface EvidenceFacts {
  evidenceId: string;
  type: EvidenceType;
  /** The logbook event this evidence is about. */
  event: { id: number; type: string; time: string; actor: string };
  /** Why it happened, for failures, refusals and expiry (EventReasons). */
  reason?: { code: string; details: string } | undefined;
  submissionTime: string;
  policyId: string;
  issuer: { name: string; certificateSha256: string };
  sender: { address: string; name?: string | undefined };
  /** The recipient the event is about, or every recipient for the submission. */
  recipients: Array<{ id: string; address: string; name?: string | undefined; kind: string; internetMessageId: string }>;
  message: { id: string; reference?: string | undefined; mode: string; language: string };
  /**
   * SHA-256 (base64) of the message content and of each attachment. `content` is
   * the digest of the canonical JSON of the submitted subject and bodies
   * (docs/evidence.md, "What is digested").
   */
  content: { digest: string; parts: Array<{ id: string; filename: string; contentType: string; size: number; digest: string }> };
  /** What the next hop said, for deliveries and failures (SMTP reply, queue id, route). */
  transport?: Record<string, string> | undefined;
  chain: { sequence: number; previousDigest: string };
  issuedAt: string;
}

/** The previous digest of a message's first evidence: 32 zero bytes, as hex. */
export const CHAIN_START = '0'.repeat(64);
