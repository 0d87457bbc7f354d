import { findEvidence, listEvidence } from '../db/repositories/evidence.ts';
import type { EvidenceRow } from '../db/schema.ts';
import type { EvidenceFacts } from '../evidence/evidence-facts.ts';
import { renderReceipt } from '../evidence/receipt-pdf.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';
import { requireMessage } from './message-queries.ts';
import { authorize, type Principal } from './principal.ts';

/** One proof as lists show it; the signed bytes are fetched one at a time. */
export interface ProofView {
  id: string;
  messageId: string;
  recipientId: string | null;
  /** ETSI EN 319 522 evidence type (docs/evidence.md). */
  type: string;
  eventId: number;
  eventType: string;
  sequence: number;
  /** SHA-256 (hex) of the signed evidence, and of the one before it (64 zeros for the first). */
  sha256: string;
  previousSha256: string;
  createdAt: string;
}

export interface ProofDocument {
  proof: ProofView;
  /** DER CMS SignedData with the evidence XML inside. */
  signed: Buffer;
}

/** The message's proofs in chain order; auditors and submitters of the tenant; another tenant's message is not_found. */
export async function listProofs(ctx: CoreContext, principal: Principal, messageId: string): Promise<ProofView[]> {
  authorize(principal, 'logbook:read');
  const message = await requireMessage(ctx, principal, messageId);
  return (await listEvidence(ctx.db, principal.tenantId, message.id)).map(toProofView);
}

export async function getProof(ctx: CoreContext, principal: Principal, proofId: string): Promise<ProofDocument> {
  authorize(principal, 'logbook:read');
  const row = await requireProof(ctx, principal, proofId);
  return { proof: toProofView(row), signed: row.signed };
}

/** The human-readable receipt of one proof, in the message's language, with the signed evidence attached. */
export async function getProofReceipt(ctx: CoreContext, principal: Principal, proofId: string): Promise<{ proof: ProofView; pdf: Buffer }> {
  authorize(principal, 'logbook:read');
  const row = await requireProof(ctx, principal, proofId);
  return { proof: toProofView(row), pdf: await renderReceipt(row.facts as unknown as EvidenceFacts, row.signed) };
}

async function requireProof(ctx: CoreContext, principal: Principal, proofId: string): Promise<EvidenceRow> {
  const row = isUuid(proofId) ? await findEvidence(ctx.db, principal.tenantId, proofId.toLowerCase()) : undefined;
  if (!row) throw new AppError('not_found', `proof ${proofId} does not exist`, { id: proofId });
  return row;
}

function toProofView(row: EvidenceRow): ProofView {
  const facts = row.facts as unknown as EvidenceFacts;
  return {
    id: row.id,
    messageId: row.messageId,
    recipientId: row.recipientId,
    type: row.type,
    eventId: row.eventId,
    eventType: facts.event.type,
    sequence: row.sequence,
    sha256: row.sha256.toString('hex'),
    previousSha256: row.previousSha256.toString('hex'),
    createdAt: row.createdAt.toISOString(),
  };
}
