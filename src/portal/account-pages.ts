import type { Language } from '../core/states.ts';
import { PASSWORD_MIN_LENGTH } from '../core/portal-passwords.ts';
import { accountTexts } from './account-texts.ts';
import { escapeHtml } from './html.ts';
import { formatDate, texts } from './i18n.ts';
import { layout } from './pages.ts';

/**
 * The portal's forms: plain HTML forms posting to /r/<token>/<action>, each with
 * the session's CSRF token (except "Open message", whose capability is the link
 * itself), labelled inputs, errors announced with role="alert". No scripts.
 */
const e = escapeHtml;

const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${e(csrf)}">`;
const errorLine = (error: string | undefined) => (error ? `<p class="error" role="alert">${e(error)}</p>\n` : '');
const form = (token: string, action: string, csrf: string | undefined, inner: string, label: string, extraClass = '') =>
  `<form method="post" action="/r/${e(token)}/${action}">${csrf ? csrfField(csrf) : ''}
${inner}<button type="submit"${extraClass ? ` class="${extraClass}"` : ''}>${e(label)}</button>
</form>`;

/** The first page behind a link: who sent what, and a button. Only its POST counts as opening (link scanners only GET). */
export function landingPage(language: Language, view: { token: string; title: string }): string {
  const t = accountTexts[language];
  return layout(language, view.title, `<h1>${e(view.title)}</h1>\n<p>${e(t.landingIntro)}</p>\n${form(view.token, 'open', undefined, '', t.open)}`);
}

export function registerStartPage(language: Language, view: { token: string; csrf: string; address: string; error?: string | undefined }): string {
  const t = accountTexts[language];
  return layout(
    language,
    t.registerTitle,
    `<h1>${e(t.registerTitle)}</h1>\n${errorLine(view.error)}<p>${e(t.registerIntro(view.address))}</p>\n${form(view.token, 'code', view.csrf, '', t.sendCode)}`,
  );
}

export function registerFormPage(language: Language, view: { token: string; csrf: string; address: string; error?: string | undefined }): string {
  const t = accountTexts[language];
  const fields = `<label for="code">${e(t.code)}</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="20">
<label for="password">${e(t.password)}</label>
<input type="password" id="password" name="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="200" aria-describedby="password-hint">
<p id="password-hint" class="hint">${e(t.passwordHint(PASSWORD_MIN_LENGTH))}</p>
<label for="passwordRepeat">${e(t.passwordRepeat)}</label>
<input type="password" id="passwordRepeat" name="passwordRepeat" autocomplete="new-password" required maxlength="200">
<section class="terms" aria-labelledby="terms-heading"><h2 id="terms-heading">${e(t.termsHeading)}</h2><p>${e(t.termsText)}</p></section>
<p class="check"><input type="checkbox" id="terms" name="terms" value="accept" required> <label for="terms" class="inline">${e(t.terms)}</label></p>
`;
  return layout(
    language,
    t.codeTitle,
    `<h1>${e(t.codeTitle)}</h1>\n${errorLine(view.error)}<p>${e(t.codeIntro(view.address))}</p>\n${form(view.token, 'register', view.csrf, fields, t.register)}\n${form(view.token, 'code', view.csrf, '', t.resend, 'secondary')}`,
  );
}

export function loginPage(language: Language, view: { token: string; csrf: string; address: string; error?: string | undefined }): string {
  const t = accountTexts[language];
  const fields = `<label for="address">${e(t.address)}</label>
<input type="email" id="address" name="address" autocomplete="username" required maxlength="254" value="${e(view.address)}">
<label for="password">${e(t.password)}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="200">
`;
  return layout(language, t.loginTitle, `<h1>${e(t.loginTitle)}</h1>\n${errorLine(view.error)}<p>${e(t.loginIntro)}</p>\n${form(view.token, 'login', view.csrf, fields, t.login)}`);
}

export function unlockPage(language: Language, view: { token: string; csrf: string; error?: string | undefined }): string {
  const t = accountTexts[language];
  const fields = `<label for="unlockCode">${e(t.unlockCode)}</label>
<input type="text" id="unlockCode" name="unlockCode" autocomplete="off" required maxlength="64">
`;
  return layout(
    language,
    t.unlockTitle,
    `<h1>${e(t.unlockTitle)}</h1>\n${errorLine(view.error)}<p>${e(t.unlockIntro)}</p>\n${form(view.token, 'unlock', view.csrf, fields, t.unlock)}\n${logoutForm(language, view.token, view.csrf)}`,
  );
}

export function acceptPage(language: Language, view: { token: string; csrf: string; sender: string; sentAt: Date; acceptBy: Date }): string {
  const t = accountTexts[language];
  return layout(
    language,
    t.acceptTitle,
    `<h1>${e(t.acceptTitle)}</h1>
<p>${e(t.acceptIntro(view.sender))}</p>
<dl class="meta"><dt>${e(texts[language].from)}</dt><dd>${e(view.sender)}</dd><dt>${e(texts[language].sent)}</dt><dd>${e(formatDate(language, view.sentAt))}</dd><dt>${e(t.acceptUntil)}</dt><dd>${e(formatDate(language, view.acceptBy))}</dd></dl>
<div class="decision">
${form(view.token, 'accept', view.csrf, '', t.accept)}
${form(view.token, 'refuse', view.csrf, '', t.refuse, 'secondary')}
</div>
${logoutForm(language, view.token, view.csrf)}`,
  );
}

/** A page that only says something (refused, expired, locked, another account), with a logout button when logged in. */
export function noticePage(language: Language, view: { title: string; text: string; logout?: { token: string; csrf: string } | undefined }): string {
  return layout(
    language,
    view.title,
    `<h1>${e(view.title)}</h1>\n<p>${e(view.text)}</p>${view.logout ? `\n${logoutForm(language, view.logout.token, view.logout.csrf)}` : ''}`,
  );
}

export function logoutForm(language: Language, token: string, csrf: string): string {
  return form(token, 'logout', csrf, '', accountTexts[language].logout, 'secondary');
}
