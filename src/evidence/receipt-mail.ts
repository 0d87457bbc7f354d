import { eq } from 'drizzle-orm';
import MailComposer from 'nodemailer/lib/mail-composer';
import { chooseSigningIdentity } from '../core/identities.ts';
import { MessageMode } from '../core/states.ts';
import { transportPolicyFor } from '../core/transport-policies.ts';
import { evidence, messages } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import { retryDelaySeconds, type BackoffPolicy } from '../outbox/backoff.ts';
import { derOf } from '../pki/certificate.ts';
import type { MailTransport } from '../transport/smtp-transport.ts';
import type { ProtectionDeps } from '../worker/protect-message.ts';
import type { JobResult } from '../worker/worker.ts';
import { EvidenceType } from './event-mapping.ts';
import type { EvidenceFacts } from './evidence-facts.ts';
import { renderReceipt } from './receipt-pdf.ts';
import { receiptLanguage, receiptTexts, type ReceiptLanguage } from './receipt-texts.ts';

/** EVIDENCE_MAIL_RECEIPTS: nobody, senders of registered messages, or every sender. */
export const mailReceiptSettings = ['off', 'registered', 'all'] as const;
export type MailReceipts = (typeof mailReceiptSettings)[number];

/** The receipts a sender gets by mail: what a registered letter's sender keeps (submission, pick-up, refusal, expiry, failure). */
export const mailedReceiptTypes: readonly EvidenceType[] = [
  EvidenceType.SubmissionAcceptance,
  EvidenceType.ConsignmentAcceptance,
  EvidenceType.ConsignmentRejection,
  EvidenceType.AcceptanceRejectionExpiry,
  EvidenceType.ContentConsignmentFailure,
];

export const mailsReceipt = (setting: MailReceipts, type: EvidenceType, mode: string): boolean =>
  setting !== 'off' && mailedReceiptTypes.includes(type) && (setting === 'all' || mode === MessageMode.registered);

export interface ReceiptMailDeps extends ProtectionDeps {
  transport: MailTransport;
  backoff: BackoffPolicy;
}

/** Temporary SMTP failures are retried this many times, with backoff. */
const MAX_ATTEMPTS = 8;

/**
 * The `receipt_mail` job (queued with the evidence, in the same transaction):
 * mails the localized PDF receipt and the signed evidence (.p7m) to the
 * message's sender address, From that address, signed with the tenant's
 * signing identity for it when one is valid (else unsigned: the attached
 * evidence carries its own signature). Temporary SMTP failures are retried;
 * a permanent one is logged and the job ends (the receipt stays fetchable).
 */
export async function receiptMailJob(deps: ReceiptMailDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  const evidenceId = typeof job.payload.evidenceId === 'string' ? job.payload.evidenceId : undefined;
  const [row] = evidenceId ? await deps.db.select().from(evidence).where(eq(evidence.id, evidenceId)) : [];
  const [message] = row ? await deps.db.select().from(messages).where(eq(messages.id, row.messageId)) : [];
  if (!row || !message) {
    log.error({ evidenceId }, 'receipt mail for evidence that does not exist; removing the job');
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  const facts = row.facts as unknown as EvidenceFacts;
  const raw = await renderReceiptMail(facts, row.signed);
  const identity = await chooseSigningIdentity(deps, message.tenantId, message.fromAddress);
  const mail = identity
    ? await deps.smime().signMessage(raw, { certificate: derOf(identity.certificate), privateKey: identity.privateKey, chain: identity.chain.map(derOf) })
    : raw;
  if (!identity) log.warn({ evidenceId: row.id }, 'no valid signing identity for the sender; the receipt mail goes unsigned (its evidence is signed)');
  const policy = await transportPolicyFor(deps, message.tenantId, message.fromAddress);
  const outcome = await deps.transport.send(mail, { from: message.fromAddress, to: message.fromAddress, policy });
  if (outcome.kind === 'temporary' && job.attempts < MAX_ATTEMPTS) {
    log.warn({ evidenceId: row.id, reason: outcome.reason }, 'receipt mail not handed over; trying again');
    await rescheduleJob(deps.db, job.id, retryDelaySeconds(job.attempts, deps.backoff));
    return 'retrying';
  }
  if (outcome.kind === 'delivered') log.info({ evidenceId: row.id, type: row.type, signed: Boolean(identity) }, 'receipt mailed to the sender');
  else log.warn({ evidenceId: row.id, reason: outcome.reason }, 'receipt mail could not be handed over; giving up (the receipt stays available by API)');
  await completeJob(deps.db, job.id);
  return outcome.kind === 'delivered' ? 'delivered' : 'failed';
}

const mailTexts: Record<ReceiptLanguage, { intro: string; attached: string }> = {
  de: {
    intro: 'Für Ihre Sendung wurde folgende Quittung ausgestellt.',
    attached: 'Die Quittung liegt als PDF bei, der signierte Nachweis als .p7m-Datei (prüfbar mit openssl cms -verify oder sealpost proof verify).',
  },
  fr: {
    intro: 'La quittance suivante a été établie pour votre envoi.',
    attached: 'La quittance est jointe en PDF, la preuve signée en fichier .p7m (vérifiable avec openssl cms -verify ou sealpost proof verify).',
  },
  it: {
    intro: 'Per il suo invio è stata emessa la seguente ricevuta.',
    attached: 'La ricevuta è allegata in PDF, la prova firmata come file .p7m (verificabile con openssl cms -verify o sealpost proof verify).',
  },
  en: {
    intro: 'The following receipt was issued for your message.',
    attached: 'The receipt is attached as a PDF, the signed evidence as a .p7m file (verify it with openssl cms -verify or sealpost proof verify).',
  },
};

/** The receipt mail: From and To the sender, in the message's language, the PDF and the signed evidence attached. */
export async function renderReceiptMail(facts: EvidenceFacts, signed: Buffer): Promise<Buffer> {
  const language = receiptLanguage(facts.message.language);
  const title = receiptTexts[language].titles[facts.type];
  const texts = mailTexts[language];
  const about = facts.message.reference ?? facts.message.id;
  const from = facts.sender.name ? { address: facts.sender.address, name: facts.sender.name } : facts.sender.address;
  const composer = new MailComposer({
    from,
    to: from,
    subject: `${title}: ${about}`,
    text: [texts.intro, '', `${title} (${facts.type})`, `${facts.message.id}${facts.message.reference ? ` / ${facts.message.reference}` : ''}`, facts.event.time, '', texts.attached, ''].join('\r\n'),
    attachments: [
      { filename: `receipt-${facts.evidenceId}.pdf`, content: await renderReceipt(facts, signed), contentType: 'application/pdf' },
      { filename: `evidence-${facts.evidenceId}.p7m`, content: signed, contentType: 'application/pkcs7-mime; smime-type=signed-data' },
    ],
    headers: { 'X-Sealpost-Message-Id': facts.message.id, 'X-Sealpost-Evidence-Id': facts.evidenceId, 'Auto-Submitted': 'auto-generated' },
    newline: '\r\n',
  });
  return composer.compile().build();
}
