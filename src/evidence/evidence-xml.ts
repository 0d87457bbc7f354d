import { erdsEventId } from './event-mapping.ts';
import type { EvidenceFacts } from './evidence-facts.ts';

export const ETSI_NAMESPACE = 'http://uri.etsi.org/19522/v1#';
export const SEALPOST_NAMESPACE = 'urn:sealpost:evidence:v1';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

/**
 * The evidence document, element names after ETSI EN 319 522-3 (Evidence,
 * EvidenceIdentifier, ERDSEventId, EventTime, SubmissionTime, EventReasons,
 * EvidenceIssuerPolicyID, EvidenceIssuerDetails, SenderDetails,
 * RecipientDetails, UserContentInfo/PartsInfo/PartInfo); what the standard has
 * no element for (logbook event, our identifiers, the hash chain, the SMTP
 * reply) goes in Extensions, in our own namespace. docs/evidence.md lists each field.
 * UTF-8, LF line ends, no signature inside: the CMS around it signs it.
 */
export function evidenceXml(f: EvidenceFacts): string {
  const lines: string[] = [];
  const el = (indent: number, name: string, value: string | number, attributes = '') =>
    lines.push(`${'  '.repeat(indent)}<${name}${attributes}>${escape(String(value))}</${name}>`);
  const open = (indent: number, name: string, attributes = '') => lines.push(`${'  '.repeat(indent)}<${name}${attributes}>`);
  const close = (indent: number, name: string) => lines.push(`${'  '.repeat(indent)}</${name}>`);

  lines.push('<?xml version="1.0" encoding="UTF-8"?>');
  open(0, 'Evidence', ` xmlns="${ETSI_NAMESPACE}" xmlns:sp="${SEALPOST_NAMESPACE}"`);
  el(1, 'EvidenceVersion', '1');
  el(1, 'EvidenceIdentifier', f.evidenceId);
  el(1, 'ERDSEventId', erdsEventId(f.type));
  if (f.reason) {
    open(1, 'EventReasons');
    open(2, 'EventReason');
    el(3, 'Code', f.reason.code);
    el(3, 'Details', f.reason.details);
    close(2, 'EventReason');
    close(1, 'EventReasons');
  }
  el(1, 'EventTime', f.event.time);
  el(1, 'SubmissionTime', f.submissionTime);
  open(1, 'EvidenceIssuerPolicyID');
  el(2, 'PolicyID', f.policyId);
  close(1, 'EvidenceIssuerPolicyID');
  open(1, 'EvidenceIssuerDetails');
  el(2, 'Identifier', f.issuer.name);
  el(2, 'sp:CertificateDigest', f.issuer.certificateSha256, ` Algorithm="${SHA256}"`);
  close(1, 'EvidenceIssuerDetails');
  open(1, 'SenderDetails');
  el(2, 'Identifier', f.sender.address, ' type="email"');
  if (f.sender.name) el(2, 'sp:Name', f.sender.name);
  close(1, 'SenderDetails');
  for (const r of f.recipients) {
    open(1, 'RecipientDetails');
    el(2, 'Identifier', r.address, ' type="email"');
    if (r.name) el(2, 'sp:Name', r.name);
    el(2, 'sp:RecipientId', r.id);
    el(2, 'sp:Kind', r.kind);
    el(2, 'sp:InternetMessageId', r.internetMessageId);
    close(1, 'RecipientDetails');
  }
  open(1, 'UserContentInfo');
  el(2, 'MessageIdentifier', f.message.id);
  el(2, 'ComposingParts', f.content.parts.length + 1);
  open(2, 'PartsInfo');
  open(3, 'PartInfo');
  el(4, 'Identifier', 'content');
  el(4, 'ContentType', 'application/json');
  el(4, 'DigestMethod', '', ` Algorithm="${SHA256}"`);
  el(4, 'DigestValue', f.content.digest);
  close(3, 'PartInfo');
  for (const p of f.content.parts) {
    open(3, 'PartInfo');
    el(4, 'Identifier', p.id);
    el(4, 'sp:FileName', p.filename);
    el(4, 'ContentType', p.contentType);
    el(4, 'sp:Size', p.size);
    el(4, 'DigestMethod', '', ` Algorithm="${SHA256}"`);
    el(4, 'DigestValue', p.digest);
    close(3, 'PartInfo');
  }
  close(2, 'PartsInfo');
  close(1, 'UserContentInfo');
  open(1, 'Extensions');
  open(2, 'Extension');
  open(3, 'sp:Message');
  el(4, 'sp:MessageId', f.message.id);
  if (f.message.reference) el(4, 'sp:Reference', f.message.reference);
  el(4, 'sp:Mode', f.message.mode);
  el(4, 'sp:Language', f.message.language);
  close(3, 'sp:Message');
  open(3, 'sp:LogbookEvent');
  el(4, 'sp:EventId', f.event.id);
  el(4, 'sp:EventType', f.event.type);
  el(4, 'sp:Actor', f.event.actor);
  close(3, 'sp:LogbookEvent');
  if (f.transport && Object.keys(f.transport).length > 0) {
    open(3, 'sp:Transport');
    for (const [name, value] of Object.entries(f.transport)) el(4, 'sp:Detail', value, ` name="${escape(name)}"`);
    close(3, 'sp:Transport');
  }
  open(3, 'sp:Chain');
  el(4, 'sp:Sequence', f.chain.sequence);
  el(4, 'sp:PreviousEvidenceDigest', f.chain.previousDigest, ' Algorithm="sha256-hex"');
  close(3, 'sp:Chain');
  el(3, 'sp:IssuedAt', f.issuedAt);
  close(2, 'Extension');
  close(1, 'Extensions');
  close(0, 'Evidence');
  return lines.join('\n') + '\n';
}

/** The chain fields read back from a signed XML, for offline verification (our own output: a fixed shape). */
export function readChainFields(xml: string): { messageId?: string; sequence?: number; previousDigest?: string; evidenceId?: string; type?: string } {
  const pick = (name: string) => new RegExp(`<${name}(?: [^>]*)?>([^<]*)</${name}>`).exec(xml)?.[1];
  const sequence = pick('sp:Sequence');
  const type = pick('ERDSEventId');
  return {
    ...(pick('sp:MessageId') !== undefined && { messageId: pick('sp:MessageId')! }),
    ...(sequence !== undefined && { sequence: Number(sequence) }),
    ...(pick('sp:PreviousEvidenceDigest') !== undefined && { previousDigest: pick('sp:PreviousEvidenceDigest')! }),
    ...(pick('EvidenceIdentifier') !== undefined && { evidenceId: pick('EvidenceIdentifier')! }),
    ...(type !== undefined && { type: type.split('/').at(-1)! }),
  };
}

function escape(text: string): string {
  // Characters XML 1.0 cannot carry at all are replaced, so a hostile subject or reply cannot break the document.
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
