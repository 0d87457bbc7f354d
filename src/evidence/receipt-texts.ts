import type { EvidenceType } from './event-mapping.ts';

export type ReceiptLanguage = 'de' | 'fr' | 'it' | 'en';

export interface ReceiptTexts {
  titles: Record<EvidenceType, string>;
  labels: {
    evidenceId: string;
    event: string;
    eventTime: string;
    submitted: string;
    sender: string;
    recipient: string;
    message: string;
    reference: string;
    content: string;
    attachment: string;
    reason: string;
    issuer: string;
    policy: string;
    chain: string;
  };
  footer: string;
}

/** Receipt wording per message language; the Swiss names of the receipts (Abgabe-, Abholquittung …) in each language. */
export const receiptTexts: Record<ReceiptLanguage, ReceiptTexts> = {
  de: {
    titles: {
      SubmissionAcceptance: 'Abgabequittung',
      SubmissionRejection: 'Abgabe abgelehnt',
      ContentConsignment: 'Zustellbestätigung',
      ContentConsignmentFailure: 'Unzustellbarkeitsquittung',
      NotificationForAcceptance: 'Zustellbestätigung (Benachrichtigung)',
      ContentHandover: 'Abholquittung',
      ConsignmentAcceptance: 'Abholquittung (Annahme)',
      ConsignmentRejection: 'Annahmeverweigerungsquittung',
      AcceptanceRejectionExpiry: 'Verfallquittung',
    },
    labels: {
      evidenceId: 'Nachweis-Nr.',
      event: 'Ereignis',
      eventTime: 'Zeitpunkt',
      submitted: 'Aufgegeben am',
      sender: 'Absender',
      recipient: 'Empfänger',
      message: 'Nachricht',
      reference: 'Referenz',
      content: 'Inhalt (SHA-256)',
      attachment: 'Beilage',
      reason: 'Grund',
      issuer: 'Ausgestellt von',
      policy: 'Richtlinie',
      chain: 'Kette',
    },
    footer: 'Der signierte Nachweis ist dieser PDF-Datei beigefügt und lässt sich unabhängig prüfen (openssl cms -verify, sealpost proof verify).',
  },
  fr: {
    titles: {
      SubmissionAcceptance: 'Quittance de dépôt',
      SubmissionRejection: 'Dépôt refusé',
      ContentConsignment: 'Confirmation de distribution',
      ContentConsignmentFailure: 'Quittance de non-distribution',
      NotificationForAcceptance: 'Confirmation de distribution (avis)',
      ContentHandover: 'Quittance de retrait',
      ConsignmentAcceptance: 'Quittance de retrait (acceptation)',
      ConsignmentRejection: 'Quittance de refus',
      AcceptanceRejectionExpiry: "Quittance d'échéance",
    },
    labels: {
      evidenceId: 'N° de preuve',
      event: 'Événement',
      eventTime: 'Date et heure',
      submitted: 'Déposé le',
      sender: 'Expéditeur',
      recipient: 'Destinataire',
      message: 'Message',
      reference: 'Référence',
      content: 'Contenu (SHA-256)',
      attachment: 'Annexe',
      reason: 'Motif',
      issuer: 'Émise par',
      policy: 'Politique',
      chain: 'Chaîne',
    },
    footer: 'La preuve signée est jointe à ce PDF et se vérifie de façon indépendante (openssl cms -verify, sealpost proof verify).',
  },
  it: {
    titles: {
      SubmissionAcceptance: 'Ricevuta di consegna',
      SubmissionRejection: 'Consegna rifiutata',
      ContentConsignment: 'Conferma di recapito',
      ContentConsignmentFailure: 'Ricevuta di mancato recapito',
      NotificationForAcceptance: 'Conferma di recapito (avviso)',
      ContentHandover: 'Ricevuta di ritiro',
      ConsignmentAcceptance: 'Ricevuta di ritiro (accettazione)',
      ConsignmentRejection: 'Ricevuta di rifiuto',
      AcceptanceRejectionExpiry: 'Ricevuta di scadenza',
    },
    labels: {
      evidenceId: 'N. prova',
      event: 'Evento',
      eventTime: 'Data e ora',
      submitted: 'Consegnato il',
      sender: 'Mittente',
      recipient: 'Destinatario',
      message: 'Messaggio',
      reference: 'Riferimento',
      content: 'Contenuto (SHA-256)',
      attachment: 'Allegato',
      reason: 'Motivo',
      issuer: 'Emessa da',
      policy: 'Politica',
      chain: 'Catena',
    },
    footer: 'La prova firmata è allegata a questo PDF e si verifica in modo indipendente (openssl cms -verify, sealpost proof verify).',
  },
  en: {
    titles: {
      SubmissionAcceptance: 'Submission receipt',
      SubmissionRejection: 'Submission rejected',
      ContentConsignment: 'Delivery confirmation',
      ContentConsignmentFailure: 'Delivery failure receipt',
      NotificationForAcceptance: 'Delivery confirmation (notification)',
      ContentHandover: 'Pick-up receipt',
      ConsignmentAcceptance: 'Pick-up receipt (accepted)',
      ConsignmentRejection: 'Refusal receipt',
      AcceptanceRejectionExpiry: 'Expiry receipt',
    },
    labels: {
      evidenceId: 'Evidence no.',
      event: 'Event',
      eventTime: 'Time',
      submitted: 'Submitted',
      sender: 'Sender',
      recipient: 'Recipient',
      message: 'Message',
      reference: 'Reference',
      content: 'Content (SHA-256)',
      attachment: 'Attachment',
      reason: 'Reason',
      issuer: 'Issued by',
      policy: 'Policy',
      chain: 'Chain',
    },
    footer: 'The signed evidence is attached to this PDF and can be verified independently (openssl cms -verify, sealpost proof verify).',
  },
};

export const receiptLanguage = (language: string): ReceiptLanguage => (language in receiptTexts ? (language as ReceiptLanguage) : 'en');
