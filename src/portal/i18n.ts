import { languages, type Language, type MessageMode } from '../core/states.ts';

/**
 * Every sentence the notification and the portal show, in the four languages a
 * message may have. One table, so a missing translation is a type error.
 */
export interface Texts {
  read: string;
  modeName: Record<MessageMode, string>;
  notificationSubject: (modeName: string, sender: string) => string;
  notificationIntro: (modeName: string, sender: string) => string;
  notificationFallback: (file: string) => string;
  notificationExpiry: (date: string) => string;
  notificationNoReply: string;
  portalTitle: string;
  from: string;
  subject: string;
  sent: string;
  attachments: string;
  noAttachments: string;
  download: string;
  htmlAsText: string;
  notFoundTitle: string;
  notFound: string;
  goneTitle: string;
  gone: string;
  deletedTitle: string;
  deleted: string;
  tooManyTitle: string;
  tooMany: string;
  notYetTitle: string;
  notYet: string;
}

const de: Texts = {
  read: 'Lesen',
  modeName: { confidential: 'Vertrauliche Nachricht', personal: 'Persönliche Nachricht', registered: 'Eingeschriebene Nachricht' },
  notificationSubject: (m, s) => `${m} von ${s}`,
  notificationIntro: (m, s) => `${s} hat Ihnen eine Nachricht gesendet (${m}). Klicken Sie auf «Lesen», um sie zu öffnen.`,
  notificationFallback: (f) => `Wird kein «Lesen»-Button angezeigt, öffnen Sie den Anhang ${f} oder den folgenden Link:`,
  notificationExpiry: (d) => `Der Link ist gültig bis ${d}.`,
  notificationNoReply: 'Bitte antworten Sie nicht auf diese Benachrichtigung.',
  portalTitle: 'Sichere Nachricht',
  from: 'Von',
  subject: 'Betreff',
  sent: 'Gesendet',
  attachments: 'Anhänge',
  noAttachments: 'Keine Anhänge.',
  download: 'Herunterladen',
  htmlAsText: 'Die Nachricht wurde als HTML gesendet und wird hier als Text angezeigt.',
  notFoundTitle: 'Link ungültig',
  notFound: 'Dieser Link ist ungültig. Prüfen Sie, ob Sie ihn vollständig aus der Benachrichtigung übernommen haben.',
  goneTitle: 'Link abgelaufen',
  gone: 'Dieser Link ist abgelaufen. Bitten Sie den Absender, die Nachricht erneut zu senden.',
  deletedTitle: 'Nachricht nicht mehr verfügbar',
  deleted: 'Der Inhalt dieser Nachricht wurde nach Ablauf der Aufbewahrungsfrist gelöscht. Bitten Sie den Absender, sie erneut zu senden.',
  tooManyTitle: 'Zu viele Versuche',
  tooMany: 'Zu viele ungültige Links von Ihrer Adresse. Versuchen Sie es später erneut.',
  notYetTitle: 'Noch nicht verfügbar',
  notYet: 'Diese Nachricht kann in diesem Portal noch nicht geöffnet werden.',
};

const fr: Texts = {
  read: 'Lire',
  modeName: { confidential: 'Message confidentiel', personal: 'Message personnel', registered: 'Message recommandé' },
  notificationSubject: (m, s) => `${m} de ${s}`,
  notificationIntro: (m, s) => `${s} vous a envoyé un message (${m}). Cliquez sur «Lire» pour l’ouvrir.`,
  notificationFallback: (f) => `Si aucun bouton «Lire» n’apparaît, ouvrez l’annexe ${f} ou le lien suivant:`,
  notificationExpiry: (d) => `Le lien est valable jusqu’au ${d}.`,
  notificationNoReply: 'Merci de ne pas répondre à cette notification.',
  portalTitle: 'Message sécurisé',
  from: 'De',
  subject: 'Objet',
  sent: 'Envoyé',
  attachments: 'Annexes',
  noAttachments: 'Aucune annexe.',
  download: 'Télécharger',
  htmlAsText: 'Le message a été envoyé en HTML et est affiché ici sous forme de texte.',
  notFoundTitle: 'Lien non valable',
  notFound: 'Ce lien n’est pas valable. Vérifiez que vous l’avez repris en entier de la notification.',
  goneTitle: 'Lien expiré',
  gone: 'Ce lien a expiré. Demandez à l’expéditeur de renvoyer le message.',
  deletedTitle: 'Message plus disponible',
  deleted: 'Le contenu de ce message a été supprimé à la fin de la durée de conservation. Demandez à l’expéditeur de le renvoyer.',
  tooManyTitle: 'Trop de tentatives',
  tooMany: 'Trop de liens non valables depuis votre adresse. Réessayez plus tard.',
  notYetTitle: 'Pas encore disponible',
  notYet: 'Ce message ne peut pas encore être ouvert dans ce portail.',
};

const it: Texts = {
  read: 'Leggi',
  modeName: { confidential: 'Messaggio confidenziale', personal: 'Messaggio personale', registered: 'Messaggio raccomandato' },
  notificationSubject: (m, s) => `${m} da ${s}`,
  notificationIntro: (m, s) => `${s} le ha inviato un messaggio (${m}). Clicchi su «Leggi» per aprirlo.`,
  notificationFallback: (f) => `Se non appare il pulsante «Leggi», apra l’allegato ${f} o il link seguente:`,
  notificationExpiry: (d) => `Il link è valido fino al ${d}.`,
  notificationNoReply: 'Non risponda a questa notifica.',
  portalTitle: 'Messaggio sicuro',
  from: 'Da',
  subject: 'Oggetto',
  sent: 'Inviato',
  attachments: 'Allegati',
  noAttachments: 'Nessun allegato.',
  download: 'Scarica',
  htmlAsText: 'Il messaggio è stato inviato in HTML ed è mostrato qui come testo.',
  notFoundTitle: 'Link non valido',
  notFound: 'Questo link non è valido. Verifichi di averlo copiato per intero dalla notifica.',
  goneTitle: 'Link scaduto',
  gone: 'Questo link è scaduto. Chieda al mittente di inviare di nuovo il messaggio.',
  deletedTitle: 'Messaggio non più disponibile',
  deleted: 'Il contenuto di questo messaggio è stato cancellato alla scadenza del periodo di conservazione. Chieda al mittente di inviarlo di nuovo.',
  tooManyTitle: 'Troppi tentativi',
  tooMany: 'Troppi link non validi dal suo indirizzo. Riprovi più tardi.',
  notYetTitle: 'Non ancora disponibile',
  notYet: 'Questo messaggio non può ancora essere aperto in questo portale.',
};

const en: Texts = {
  read: 'Read',
  modeName: { confidential: 'Confidential message', personal: 'Personal message', registered: 'Registered message' },
  notificationSubject: (m, s) => `${m} from ${s}`,
  notificationIntro: (m, s) => `${s} has sent you a message (${m}). Click “Read” to open it.`,
  notificationFallback: (f) => `If no “Read” button is shown, open the attachment ${f} or this link:`,
  notificationExpiry: (d) => `The link is valid until ${d}.`,
  notificationNoReply: 'Please do not reply to this notification.',
  portalTitle: 'Secure message',
  from: 'From',
  subject: 'Subject',
  sent: 'Sent',
  attachments: 'Attachments',
  noAttachments: 'No attachments.',
  download: 'Download',
  htmlAsText: 'The message was sent as HTML and is shown here as text.',
  notFoundTitle: 'Invalid link',
  notFound: 'This link is not valid. Check that you copied all of it from the notification.',
  goneTitle: 'Link expired',
  gone: 'This link has expired. Ask the sender to send the message again.',
  deletedTitle: 'Message no longer available',
  deleted: 'The content of this message was deleted at the end of its retention period. Ask the sender to send it again.',
  tooManyTitle: 'Too many attempts',
  tooMany: 'Too many invalid links from your address. Try again later.',
  notYetTitle: 'Not available yet',
  notYet: 'This message cannot be opened in this portal yet.',
};

export const texts: Readonly<Record<Language, Texts>> = { de, fr, it, en };

const locales: Record<Language, string> = { de: 'de-CH', fr: 'fr-CH', it: 'it-CH', en: 'en-GB' };

export function formatDate(language: Language, date: Date): string {
  return new Intl.DateTimeFormat(locales[language], { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Zurich' }).format(date);
}

/** The first supported language of an Accept-Language header (by q), else English. */
export function languageFromHeader(header: string | undefined): Language {
  if (!header) return 'en';
  const ranked = header
    .slice(0, 500)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase().slice(0, 2), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return (ranked.map((r) => r.tag).find((t) => (languages as readonly string[]).includes(t)) as Language | undefined) ?? 'en';
}
