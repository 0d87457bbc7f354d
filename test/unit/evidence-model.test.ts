import { describe, expect, it } from 'vitest';
import { canonicalContent } from '../../src/evidence/build-facts.ts';
import { evidenceTypeOf, isEvidenceWorthy } from '../../src/evidence/event-mapping.ts';
import type { EvidenceFacts } from '../../src/evidence/evidence-facts.ts';
import { evidenceXml, readChainFields } from '../../src/evidence/evidence-xml.ts';

describe('event mapping', () => {
  it('maps each evidence-worthy logbook event to its ETSI EN 319 522 type', () => {
    expect(evidenceTypeOf('submitted', {})).toBe('SubmissionAcceptance');
    expect(evidenceTypeOf('delivered', {})).toBe('ContentConsignment');
    expect(evidenceTypeOf('delivered', { route: 'smime' })).toBe('ContentConsignment');
    expect(evidenceTypeOf('delivered', { route: 'signed' })).toBe('ContentConsignment');
    expect(evidenceTypeOf('delivered', { route: 'portal' })).toBe('NotificationForAcceptance');
    expect(evidenceTypeOf('failed', {})).toBe('ContentConsignmentFailure');
    expect(evidenceTypeOf('opened', {})).toBe('ContentHandover');
    expect(evidenceTypeOf('accepted_by_recipient', {})).toBe('ConsignmentAcceptance');
    expect(evidenceTypeOf('refused', {})).toBe('ConsignmentRejection');
    expect(evidenceTypeOf('expired', {})).toBe('AcceptanceRejectionExpiry');
    for (const internal of ['processing', 'retry_scheduled', 'lease_expired', 'cancelled', 'delayed']) {
      expect(evidenceTypeOf(internal, {})).toBeUndefined();
      expect(isEvidenceWorthy(internal)).toBe(false);
    }
  });
});

describe('evidence XML', () => {
  const facts: EvidenceFacts = {
    evidenceId: '00000000-0000-4000-8000-000000000001',
    type: 'ContentConsignmentFailure',
    event: { id: 7, type: 'failed', time: '2026-11-02T10:00:00.000Z', actor: 'worker:w1' },
    reason: { code: 'permanent_failure', details: '550 <no such user> & "gone"' },
    submissionTime: '2026-11-02T09:59:00.000Z',
    policyId: 'urn:example:policy',
    issuer: { name: 'CN=Evidence', certificateSha256: 'ab'.repeat(32) },
    sender: { address: 'payroll@example.com', name: 'Pay\u0000roll </Identifier>' },
    recipients: [{ id: 'r1', address: 'anna@example.org', kind: 'to', internetMessageId: '<r1@sealpost.test>' }],
    message: { id: 'm1', mode: 'confidential', language: 'de' },
    content: { digest: 'Y29udGVudA==', parts: [] },
    chain: { sequence: 3, previousDigest: 'cd'.repeat(32) },
    issuedAt: '2026-11-02T10:00:01.000Z',
  };

  it('escapes hostile text and characters XML cannot carry, and reads its chain fields back', () => {
    const xml = evidenceXml(facts);
    expect(xml).toContain('<Details>550 &lt;no such user&gt; &amp; &quot;gone&quot;</Details>');
    expect(xml).toContain('<sp:Name>Pay\uFFFDroll &lt;/Identifier&gt;</sp:Name>');
    expect(xml).not.toContain('\u0000');
    expect(readChainFields(xml)).toEqual({ messageId: 'm1', sequence: 3, previousDigest: 'cd'.repeat(32), evidenceId: facts.evidenceId, type: 'ContentConsignmentFailure' });
  });

  it('digests the content as sorted-key JSON of subject and bodies, absent ones left out', () => {
    expect(canonicalContent({ subject: 'S', text: 'T', html: '<p>H</p>' }).toString()).toBe('{"html":"<p>H</p>","subject":"S","text":"T"}');
    expect(canonicalContent({ subject: 'Grüße' }).toString()).toBe('{"subject":"Grüße"}');
  });
});
