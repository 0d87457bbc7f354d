import type { Language } from '../core/states.ts';

/** The sentences of the portal's account, unlock and acceptance pages and of the code mail, in the four languages. */
export interface AccountTexts {
  landing: (mode: string, sender: string) => string;
  landingIntro: string;
  open: string;
  registerTitle: string;
  registerIntro: (address: string) => string;
  sendCode: string;
  codeTitle: string;
  codeIntro: (address: string) => string;
  code: string;
  password: string;
  passwordRepeat: string;
  passwordHint: (min: number) => string;
  termsHeading: string;
  termsText: string;
  terms: string;
  register: string;
  resend: string;
  loginTitle: string;
  loginIntro: string;
  address: string;
  login: string;
  logout: string;
  unlockTitle: string;
  unlockIntro: string;
  unlockCode: string;
  unlock: string;
  acceptTitle: string;
  acceptIntro: (sender: string) => string;
  accept: string;
  acceptUntil: string;
  refuse: string;
  refusedTitle: string;
  refused: string;
  expiredTitle: string;
  expired: string;
  lockedTitle: string;
  locked: (until: string) => string;
  forbiddenTitle: string;
  forbidden: string;
  otherAccountTitle: string;
  otherAccount: (address: string) => string;
  notReadyTitle: string;
  notReady: string;
  wrongCode: string;
  weakPassword: (min: number) => string;
  passwordMismatch: string;
  termsRequired: string;
  wrongLogin: string;
  wrongUnlock: string;
  codeRecent: string;
  codeMailSubject: string;
  codeMailIntro: string;
  codeMailExpiry: (date: string) => string;
  codeMailIgnore: string;
}

const en: AccountTexts = {
  landing: (m, s) => `${m} from ${s}`,
  landingIntro: 'Open the message to read it. Opening it is recorded and the sender may be told.',
  open: 'Open message',
  registerTitle: 'Register to read this message',
  registerIntro: (a) => `Only the owner of ${a} may read this message. To register once, we send a one-time code to this address.`,
  sendCode: 'Send code',
  codeTitle: 'Complete your registration',
  codeIntro: (a) => `We have sent a one-time code to ${a}. Enter it, choose a password and accept the terms.`,
  code: 'One-time code',
  password: 'Password',
  passwordRepeat: 'Repeat password',
  passwordHint: (n) => `At least ${n} characters.`,
  termsHeading: 'Terms of use',
  termsText: 'Messages are kept for you for a limited time. Opening, accepting and refusing a message are recorded and reported to the sender. Keep your password to yourself.',
  terms: 'I accept the terms of use',
  register: 'Register',
  resend: 'Send a new code',
  loginTitle: 'Log in',
  loginIntro: 'Log in with your e-mail address and your portal password.',
  address: 'E-mail address',
  login: 'Log in',
  logout: 'Log out',
  unlockTitle: 'Unlock code',
  unlockIntro: 'The sender protected this message with an unlock code given to you separately (by letter, phone or SMS). Enter it to continue.',
  unlockCode: 'Unlock code',
  unlock: 'Unlock',
  acceptTitle: 'Registered message',
  acceptIntro: (s) => `${s} has sent you a registered message. Accept it to read it; the sender receives a receipt. A refused message is never shown.`,
  accept: 'Accept and read',
  acceptUntil: 'Accept by',
  refuse: 'Refuse',
  refusedTitle: 'Message refused',
  refused: 'You refused this message. The sender has been informed; its content will not be shown.',
  expiredTitle: 'Message expired',
  expired: 'This registered message was not accepted within the acceptance period and has expired. Its content can no longer be shown.',
  lockedTitle: 'Account locked',
  locked: (u) => `Too many wrong attempts. Your account is locked until ${u}.`,
  forbiddenTitle: 'Form no longer valid',
  forbidden: 'This form is no longer valid. Open the link from your notification again.',
  otherAccountTitle: 'Another address',
  otherAccount: (a) => `You are logged in as ${a}; this message is for another address. Log out and log in with that address.`,
  notReadyTitle: 'Not ready yet',
  notReady: 'The message is still being delivered. Try again in a moment.',
  wrongCode: 'The code is wrong or has expired.',
  weakPassword: (n) => `The password must have at least ${n} characters.`,
  passwordMismatch: 'The two passwords differ.',
  termsRequired: 'Please accept the terms of use.',
  wrongLogin: 'Wrong e-mail address or password.',
  wrongUnlock: 'The unlock code is wrong.',
  codeRecent: 'A code was sent less than a minute ago. Check your mailbox, or try again shortly.',
  codeMailSubject: 'Your registration code',
  codeMailIntro: 'Your one-time code to register and read your message:',
  codeMailExpiry: (d) => `The code is valid until ${d}.`,
  codeMailIgnore: 'If you did not ask for it, ignore this mail.',
};

const de: AccountTexts = {
  landing: (m, s) => `${m} von ${s}`,
  landingIntro: 'Öffnen Sie die Nachricht, um sie zu lesen. Das Öffnen wird festgehalten und kann dem Absender gemeldet werden.',
  open: 'Nachricht öffnen',
  registerTitle: 'Registrieren, um diese Nachricht zu lesen',
  registerIntro: (a) => `Nur die Inhaberin oder der Inhaber von ${a} darf diese Nachricht lesen. Zur einmaligen Registrierung senden wir einen Einmalcode an diese Adresse.`,
  sendCode: 'Code senden',
  codeTitle: 'Registrierung abschliessen',
  codeIntro: (a) => `Wir haben einen Einmalcode an ${a} gesendet. Geben Sie ihn ein, wählen Sie ein Passwort und akzeptieren Sie die Nutzungsbedingungen.`,
  code: 'Einmalcode',
  password: 'Passwort',
  passwordRepeat: 'Passwort wiederholen',
  passwordHint: (n) => `Mindestens ${n} Zeichen.`,
  termsHeading: 'Nutzungsbedingungen',
  termsText: 'Nachrichten werden beschränkte Zeit für Sie aufbewahrt. Öffnen, Annehmen und Verweigern einer Nachricht werden festgehalten und dem Absender gemeldet. Geben Sie Ihr Passwort niemandem weiter.',
  terms: 'Ich akzeptiere die Nutzungsbedingungen',
  register: 'Registrieren',
  resend: 'Neuen Code senden',
  loginTitle: 'Anmelden',
  loginIntro: 'Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Portal-Passwort an.',
  address: 'E-Mail-Adresse',
  login: 'Anmelden',
  logout: 'Abmelden',
  unlockTitle: 'Freischaltcode',
  unlockIntro: 'Der Absender hat diese Nachricht mit einem Freischaltcode geschützt, den Sie separat erhalten haben (Brief, Telefon oder SMS). Geben Sie ihn ein.',
  unlockCode: 'Freischaltcode',
  unlock: 'Freischalten',
  acceptTitle: 'Eingeschriebene Nachricht',
  acceptIntro: (s) => `${s} hat Ihnen eine eingeschriebene Nachricht gesendet. Nehmen Sie sie an, um sie zu lesen; der Absender erhält eine Quittung. Eine verweigerte Nachricht wird nie angezeigt.`,
  accept: 'Annehmen und lesen',
  acceptUntil: 'Annehmen bis',
  refuse: 'Verweigern',
  refusedTitle: 'Nachricht verweigert',
  refused: 'Sie haben diese Nachricht verweigert. Der Absender wurde informiert; der Inhalt wird nicht angezeigt.',
  expiredTitle: 'Nachricht verfallen',
  expired: 'Diese eingeschriebene Nachricht wurde nicht innerhalb der Annahmefrist angenommen und ist verfallen. Ihr Inhalt kann nicht mehr angezeigt werden.',
  lockedTitle: 'Konto gesperrt',
  locked: (u) => `Zu viele Fehlversuche. Ihr Konto ist gesperrt bis ${u}.`,
  forbiddenTitle: 'Formular nicht mehr gültig',
  forbidden: 'Dieses Formular ist nicht mehr gültig. Öffnen Sie den Link aus der Benachrichtigung erneut.',
  otherAccountTitle: 'Andere Adresse',
  otherAccount: (a) => `Sie sind als ${a} angemeldet; diese Nachricht ist für eine andere Adresse. Melden Sie sich ab und mit jener Adresse an.`,
  notReadyTitle: 'Noch nicht bereit',
  notReady: 'Die Nachricht wird noch zugestellt. Versuchen Sie es gleich noch einmal.',
  wrongCode: 'Der Code ist falsch oder abgelaufen.',
  weakPassword: (n) => `Das Passwort muss mindestens ${n} Zeichen haben.`,
  passwordMismatch: 'Die beiden Passwörter sind verschieden.',
  termsRequired: 'Bitte akzeptieren Sie die Nutzungsbedingungen.',
  wrongLogin: 'E-Mail-Adresse oder Passwort falsch.',
  wrongUnlock: 'Der Freischaltcode ist falsch.',
  codeRecent: 'Vor weniger als einer Minute wurde ein Code gesendet. Prüfen Sie Ihr Postfach oder versuchen Sie es gleich noch einmal.',
  codeMailSubject: 'Ihr Registrierungscode',
  codeMailIntro: 'Ihr Einmalcode, um sich zu registrieren und Ihre Nachricht zu lesen:',
  codeMailExpiry: (d) => `Der Code ist gültig bis ${d}.`,
  codeMailIgnore: 'Haben Sie ihn nicht angefordert, ignorieren Sie diese Mail.',
};

const fr: AccountTexts = {
  landing: (m, s) => `${m} de ${s}`,
  landingIntro: 'Ouvrez le message pour le lire. L’ouverture est enregistrée et peut être signalée à l’expéditeur.',
  open: 'Ouvrir le message',
  registerTitle: 'Inscrivez-vous pour lire ce message',
  registerIntro: (a) => `Seul le titulaire de ${a} peut lire ce message. Pour vous inscrire une fois, nous envoyons un code unique à cette adresse.`,
  sendCode: 'Envoyer le code',
  codeTitle: 'Terminer l’inscription',
  codeIntro: (a) => `Nous avons envoyé un code unique à ${a}. Saisissez-le, choisissez un mot de passe et acceptez les conditions d’utilisation.`,
  code: 'Code unique',
  password: 'Mot de passe',
  passwordRepeat: 'Répéter le mot de passe',
  passwordHint: (n) => `Au moins ${n} caractères.`,
  termsHeading: 'Conditions d’utilisation',
  termsText: 'Les messages sont conservés pour vous pendant une durée limitée. L’ouverture, l’acceptation et le refus d’un message sont enregistrés et signalés à l’expéditeur. Ne communiquez votre mot de passe à personne.',
  terms: 'J’accepte les conditions d’utilisation',
  register: 'S’inscrire',
  resend: 'Envoyer un nouveau code',
  loginTitle: 'Connexion',
  loginIntro: 'Connectez-vous avec votre adresse e-mail et votre mot de passe du portail.',
  address: 'Adresse e-mail',
  login: 'Se connecter',
  logout: 'Se déconnecter',
  unlockTitle: 'Code de déverrouillage',
  unlockIntro: 'L’expéditeur a protégé ce message par un code de déverrouillage qui vous a été communiqué séparément (lettre, téléphone ou SMS). Saisissez-le.',
  unlockCode: 'Code de déverrouillage',
  unlock: 'Déverrouiller',
  acceptTitle: 'Message recommandé',
  acceptIntro: (s) => `${s} vous a envoyé un message recommandé. Acceptez-le pour le lire; l’expéditeur reçoit une quittance. Un message refusé n’est jamais affiché.`,
  accept: 'Accepter et lire',
  acceptUntil: 'Accepter jusqu’au',
  refuse: 'Refuser',
  refusedTitle: 'Message refusé',
  refused: 'Vous avez refusé ce message. L’expéditeur a été informé; son contenu ne sera pas affiché.',
  expiredTitle: 'Message échu',
  expired: 'Ce message recommandé n’a pas été accepté dans le délai et a échu. Son contenu ne peut plus être affiché.',
  lockedTitle: 'Compte bloqué',
  locked: (u) => `Trop de tentatives erronées. Votre compte est bloqué jusqu’au ${u}.`,
  forbiddenTitle: 'Formulaire plus valable',
  forbidden: 'Ce formulaire n’est plus valable. Ouvrez à nouveau le lien de la notification.',
  otherAccountTitle: 'Autre adresse',
  otherAccount: (a) => `Vous êtes connecté comme ${a}; ce message est destiné à une autre adresse. Déconnectez-vous et connectez-vous avec celle-ci.`,
  notReadyTitle: 'Pas encore prêt',
  notReady: 'Le message est encore en cours de distribution. Réessayez dans un instant.',
  wrongCode: 'Le code est faux ou a expiré.',
  weakPassword: (n) => `Le mot de passe doit compter au moins ${n} caractères.`,
  passwordMismatch: 'Les deux mots de passe diffèrent.',
  termsRequired: 'Veuillez accepter les conditions d’utilisation.',
  wrongLogin: 'Adresse e-mail ou mot de passe erroné.',
  wrongUnlock: 'Le code de déverrouillage est faux.',
  codeRecent: 'Un code a été envoyé il y a moins d’une minute. Consultez votre boîte ou réessayez dans un instant.',
  codeMailSubject: 'Votre code d’inscription',
  codeMailIntro: 'Votre code unique pour vous inscrire et lire votre message:',
  codeMailExpiry: (d) => `Le code est valable jusqu’au ${d}.`,
  codeMailIgnore: 'Si vous ne l’avez pas demandé, ignorez ce courriel.',
};

const it: AccountTexts = {
  landing: (m, s) => `${m} da ${s}`,
  landingIntro: 'Apra il messaggio per leggerlo. L’apertura viene registrata e può essere comunicata al mittente.',
  open: 'Apri il messaggio',
  registerTitle: 'Si registri per leggere questo messaggio',
  registerIntro: (a) => `Solo il titolare di ${a} può leggere questo messaggio. Per registrarsi una volta, inviamo un codice monouso a questo indirizzo.`,
  sendCode: 'Invia il codice',
  codeTitle: 'Completi la registrazione',
  codeIntro: (a) => `Abbiamo inviato un codice monouso a ${a}. Lo inserisca, scelga una password e accetti le condizioni d’uso.`,
  code: 'Codice monouso',
  password: 'Password',
  passwordRepeat: 'Ripeta la password',
  passwordHint: (n) => `Almeno ${n} caratteri.`,
  termsHeading: 'Condizioni d’uso',
  termsText: 'I messaggi sono conservati per lei per un tempo limitato. Apertura, accettazione e rifiuto di un messaggio sono registrati e comunicati al mittente. Non comunichi la sua password a nessuno.',
  terms: 'Accetto le condizioni d’uso',
  register: 'Registrarsi',
  resend: 'Invia un nuovo codice',
  loginTitle: 'Accesso',
  loginIntro: 'Acceda con il suo indirizzo e-mail e la password del portale.',
  address: 'Indirizzo e-mail',
  login: 'Accedi',
  logout: 'Esci',
  unlockTitle: 'Codice di sblocco',
  unlockIntro: 'Il mittente ha protetto questo messaggio con un codice di sblocco comunicatole separatamente (lettera, telefono o SMS). Lo inserisca.',
  unlockCode: 'Codice di sblocco',
  unlock: 'Sblocca',
  acceptTitle: 'Messaggio raccomandato',
  acceptIntro: (s) => `${s} le ha inviato un messaggio raccomandato. Lo accetti per leggerlo; il mittente riceve una ricevuta. Un messaggio rifiutato non viene mai mostrato.`,
  accept: 'Accetta e leggi',
  acceptUntil: 'Accettare entro il',
  refuse: 'Rifiuta',
  refusedTitle: 'Messaggio rifiutato',
  refused: 'Ha rifiutato questo messaggio. Il mittente è stato informato; il contenuto non sarà mostrato.',
  expiredTitle: 'Messaggio scaduto',
  expired: 'Questo messaggio raccomandato non è stato accettato entro il termine ed è scaduto. Il contenuto non può più essere mostrato.',
  lockedTitle: 'Conto bloccato',
  locked: (u) => `Troppi tentativi errati. Il suo conto è bloccato fino al ${u}.`,
  forbiddenTitle: 'Modulo non più valido',
  forbidden: 'Questo modulo non è più valido. Apra di nuovo il link della notifica.',
  otherAccountTitle: 'Altro indirizzo',
  otherAccount: (a) => `Ha effettuato l’accesso come ${a}; questo messaggio è per un altro indirizzo. Esca e acceda con quell’indirizzo.`,
  notReadyTitle: 'Non ancora pronto',
  notReady: 'Il messaggio è ancora in consegna. Riprovi tra un momento.',
  wrongCode: 'Il codice è errato o scaduto.',
  weakPassword: (n) => `La password deve avere almeno ${n} caratteri.`,
  passwordMismatch: 'Le due password sono diverse.',
  termsRequired: 'Accetti le condizioni d’uso.',
  wrongLogin: 'Indirizzo e-mail o password errati.',
  wrongUnlock: 'Il codice di sblocco è errato.',
  codeRecent: 'Un codice è stato inviato meno di un minuto fa. Controlli la sua casella o riprovi tra poco.',
  codeMailSubject: 'Il suo codice di registrazione',
  codeMailIntro: 'Il suo codice monouso per registrarsi e leggere il suo messaggio:',
  codeMailExpiry: (d) => `Il codice è valido fino al ${d}.`,
  codeMailIgnore: 'Se non l’ha richiesto, ignori questa e-mail.',
};

export const accountTexts: Readonly<Record<Language, AccountTexts>> = { de, fr, it, en };
