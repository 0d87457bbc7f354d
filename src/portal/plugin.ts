import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { CoreContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { AUTO_ACCEPTANCE_ACTOR, autoAccepts, decide as recordDecision } from '../core/portal-acceptance.ts';
import { findPortalCopy, PORTAL_ACTOR, readPortalAttachment, recordOpened as recordFirstOpen } from '../core/portal-access.ts';
import { accountAddress, checkUnlockCode, completeRegistration, logIn, requestRegistrationCode } from '../core/portal-accounts.ts';
import { PASSWORD_MIN_LENGTH } from '../core/portal-passwords.ts';
import { csrfMatches, endPortalSession, logInPortalSession, markUnlocked, resumePortalSession, startPortalSession, type PortalSession } from '../core/portal-sessions.ts';
import type { Language } from '../core/states.ts';
import { RequestThrottle } from '../http/throttle.ts';
import { accountTexts } from './account-texts.ts';
import { acceptPage, landingPage, loginPage, logoutForm, noticePage, registerFormPage, registerStartPage, unlockPage } from './account-pages.ts';
import { contentDisposition } from './content-disposition.ts';
import { formatDate, languageFromHeader, texts } from './i18n.ts';
import { autoAcceptDomains, portalAccountPolicy, portalSessionPolicy } from './links.ts';
import { errorPage, messagePage, portalCss } from './pages.ts';
import { stageOf, type PortalCopyView, type Stage } from '../core/portal-stage.ts';
import type { PortalMetrics } from './portal-metrics.ts';

/** No scripts, no inline styles, nothing framed, forms only to ourselves. */
const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Downloads: never rendered as a page of this origin even if a browser tried. */
const DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";
const COOKIE = 'sealpost_portal';

type Params = { token: string };
type Form = Record<string, string>;

/**
 * The recipient portal under /r/: server-rendered HTML, no JavaScript, one
 * stylesheet (docs/modes.md). `GET /r/<token>` only shows a page with an "Open
 * message" button; its POST is the first open (link scanners only GET).
 * Confidential copies then show the content; personal and registered ones go
 * through registration or login, the unlock code, and (registered) acceptance:
 * src/core/portal-stage.ts decides which page comes next. Every other form carries
 * the session's CSRF token. Unknown links and failed logins count against the
 * client address (PORTAL_FAILURE_LIMIT per window); accounts lock after
 * PORTAL_LOGIN_FAILURE_LIMIT failures.
 */
export async function portalRoutes(app: FastifyInstance, opts: { core: CoreContext; config: Config; metrics?: PortalMetrics | undefined }): Promise<void> {
  const { core, config, metrics } = opts;
  const db = core.db;
  const sessions = portalSessionPolicy(config);
  const accounts = { ...portalAccountPolicy(config), onLockout: () => metrics?.portalEvent('lockout') };
  // The recipient's outcomes, counted when they are recorded (a second look records, and counts, nothing).
  const recordOpened: typeof recordFirstOpen = async (...args) => {
    const recorded = await recordFirstOpen(...args);
    if (recorded) metrics?.portalEvent('opened');
    return recorded;
  };
  const decide: typeof recordDecision = async (...args) => {
    const recorded = await recordDecision(...args);
    if (recorded) metrics?.portalEvent(args[2]);
    return recorded;
  };
  const autoAcceptFor = autoAcceptDomains(config);
  const secureCookie = config.PUBLIC_BASE_URL?.startsWith('https:') ?? false;
  const guesses = new RequestThrottle({
    authFailures: config.PORTAL_FAILURE_LIMIT,
    authFailureWindowMs: config.PORTAL_FAILURE_WINDOW_SECONDS * 1000,
    requestsPerMinute: Number.MAX_SAFE_INTEGER,
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
    const form: Form = {};
    for (const [key, value] of new URLSearchParams(body as string)) if (!(key in form)) form[key] = value;
    done(null, form);
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
    if (!request.url.startsWith('/r/assets/')) reply.header('cache-control', 'no-store');
  });
  app.setErrorHandler((error, request, reply) => {
    const language = languageFromHeader(request.headers['accept-language']);
    if (error instanceof AppError && error.code === 'rate_limited') return tooMany(reply, language, error);
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return page(reply, status, errorPage(language, texts[language].notFoundTitle, texts[language].notFound));
    request.log.error({ err: error }, 'portal request failed');
    return page(reply, 500, errorPage(language, 'Error', 'Something went wrong. Please try again later.'));
  });

  app.get('/r/assets/portal.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(portalCss),
  );

  const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 200 } } };
  const formSchema = { params: tokenParams, body: { type: 'object', additionalProperties: { type: 'string', maxLength: 1000 } } };

  /** Resolves the link or answers the error page itself (undefined). */
  async function copyOf(request: FastifyRequest, reply: FastifyReply, token: string) {
    const language = languageFromHeader(request.headers['accept-language']);
    guesses.assertClientAllowed(request.ip);
    const copy = await findPortalCopy(core, token);
    if (copy.kind === 'unknown') {
      guesses.recordAuthFailure(request.ip);
      await page(reply, 404, errorPage(language, texts[language].notFoundTitle, texts[language].notFound));
      return undefined;
    }
    if (copy.kind === 'expired') {
      // A registered letter's link lives exactly its acceptance period: say that it expired, not just the link.
      const [title, text] = copy.mode === 'registered' ? [accountTexts[language].expiredTitle, accountTexts[language].expired] : [texts[language].goneTitle, texts[language].gone];
      await page(reply, 410, errorPage(language, title, text));
      return undefined;
    }
    if (copy.kind === 'content_deleted') {
      await page(reply, 410, errorPage(copy.language, texts[copy.language].deletedTitle, texts[copy.language].deleted));
      return undefined;
    }
    return copy;
  }

  const sessionOf = (request: FastifyRequest) => resumePortalSession(db, sessions, cookieValue(request.headers.cookie, COOKIE));
  const setSession = (reply: FastifyReply, session: PortalSession) =>
    reply.header('set-cookie', `${COOKIE}=${session.id}; Path=/r/; Max-Age=${sessions.maxSeconds}; HttpOnly; SameSite=Strict${secureCookie ? '; Secure' : ''}`);
  const clearSession = (reply: FastifyReply) =>
    reply.header('set-cookie', `${COOKIE}=; Path=/r/; Max-Age=0; HttpOnly; SameSite=Strict${secureCookie ? '; Secure' : ''}`);
  const toMessage = (reply: FastifyReply, token: string) => reply.code(303).header('location', `/r/${token}/message`).send();
  const sender = (copy: PortalCopyView) => (copy.content.fromName ? `${copy.content.fromName} <${copy.message.fromAddress}>` : copy.message.fromAddress);

  app.get<{ Params: Params }>('/r/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    const copy = await copyOf(request, reply, request.params.token);
    if (!copy) return reply;
    const title = accountTexts[copy.language].landing(texts[copy.language].modeName[copy.message.mode], copy.content.fromName ?? copy.message.fromAddress);
    return page(reply, 200, landingPage(copy.language, { token: request.params.token, title }));
  });

  /** The first open. No CSRF token: the link is the capability, and a POST is what prefetchers and link scanners never send. */
  app.post<{ Params: Params }>('/r/:token/open', { schema: { params: tokenParams } }, async (request, reply) => {
    const copy = await copyOf(request, reply, request.params.token);
    if (!copy) return reply;
    if (copy.message.mode === 'confidential') {
      await recordOpened(core, copy);
    } else if (!(await sessionOf(request))) {
      setSession(reply, await startPortalSession(db, sessions));
    }
    return toMessage(reply, request.params.token);
  });

  app.get<{ Params: Params }>('/r/:token/message', { schema: { params: tokenParams } }, async (request, reply) => {
    const { token } = request.params;
    const copy = await copyOf(request, reply, token);
    if (!copy) return reply;
    if (copy.message.mode === 'confidential') return page(reply, 200, contentPage(copy, token));
    const session = await sessionOf(request);
    if (!session) return reply.code(303).header('location', `/r/${token}`).send();
    let stage = await stageOf(db, copy, session);
    if (stage.kind === 'decide') {
      if (autoAccepts(copy.recipient.address, autoAcceptFor)) {
        await decide(db, copy, 'accepted_by_recipient', AUTO_ACCEPTANCE_ACTOR);
        stage = { kind: 'content' };
      } else if (copy.recipient.status === 'delivered') {
        // Registered: the recipient has seen that a letter awaits (not its content); acceptance comes next.
        await recordOpened(core, copy, { stage: 'acceptance' });
      }
    } else if (stage.kind === 'content') {
      await recordOpened(core, copy);
    }
    return render(reply, copy, token, session, stage);
  });

  app.get<{ Params: { token: string; index: string } }>(
    '/r/:token/attachments/:index',
    { schema: { params: { ...tokenParams, required: ['token', 'index'], properties: { ...tokenParams.properties, index: { type: 'string', pattern: '^[0-9]{1,4}$' } } } } },
    async (request, reply) => {
      const { token } = request.params;
      const copy = await copyOf(request, reply, token);
      if (!copy) return reply;
      if (copy.message.mode !== 'confidential') {
        const session = await sessionOf(request);
        if (!session || (await stageOf(db, copy, session)).kind !== 'content') return toMessage(reply, token);
      }
      const file = await readPortalAttachment(core, copy, Number(request.params.index));
      if (!file) {
        const t = texts[copy.language];
        return page(reply, 404, errorPage(copy.language, t.notFoundTitle, t.notFound));
      }
      await recordOpened(core, copy, { attachment: Number(request.params.index) });
      return reply
        .code(200)
        .type(file.contentType)
        .header('content-disposition', contentDisposition(file.filename))
        .header('content-security-policy', DOWNLOAD_CSP)
        .send(file.content);
    },
  );

  /**
   * A form of a personal or registered copy: the link must be valid, the client
   * not throttled, and the form's CSRF token the session's; otherwise 403 and nothing changes.
   */
  function formRoute(action: string, handle: (ctx: { request: FastifyRequest; reply: FastifyReply; copy: PortalCopyView; session: PortalSession; form: Form; token: string }) => Promise<unknown>) {
    app.post<{ Params: Params; Body: Form }>(`/r/:token/${action}`, { schema: formSchema }, async (request, reply) => {
      const { token } = request.params;
      const copy = await copyOf(request, reply, token);
      if (!copy) return reply;
      const session = await sessionOf(request);
      const form = request.body ?? {};
      if (copy.message.mode === 'confidential' || !session || !csrfMatches(session, form.csrf)) {
        const t = accountTexts[copy.language];
        return page(reply, 403, noticePage(copy.language, { title: t.forbiddenTitle, text: t.forbidden }));
      }
      return handle({ request, reply, copy, session, form, token });
    });
  }

  formRoute('code', async ({ reply, copy, session, token }) => {
    if (session.address) return toMessage(reply, token);
    const result = await requestRegistrationCode(db, copy, accounts);
    if (result === 'recent') {
      const view = { token, csrf: session.csrf, address: copy.recipient.address, error: accountTexts[copy.language].codeRecent };
      return page(reply, 429, registerFormPage(copy.language, view));
    }
    return toMessage(reply, token);
  });

  formRoute('register', async ({ request, reply, copy, session, form, token }) => {
    if (session.address) return toMessage(reply, token);
    const result = await completeRegistration(db, copy, { code: form.code, password: form.password, passwordRepeat: form.passwordRepeat, terms: form.terms }, accounts);
    if (result === 'registered') {
      setSession(reply, await logInPortalSession(db, sessions, session, accountAddress(copy.recipient.address)));
      return toMessage(reply, token);
    }
    if (result === 'locked') return render(reply, copy, token, session, await stageOf(db, copy, session));
    if (result === 'wrong_code') guesses.recordAuthFailure(request.ip);
    const t = accountTexts[copy.language];
    const error = { wrong_code: t.wrongCode, weak_password: t.weakPassword(PASSWORD_MIN_LENGTH), password_mismatch: t.passwordMismatch, terms_required: t.termsRequired }[result];
    return page(reply, 400, registerFormPage(copy.language, { token, csrf: session.csrf, address: copy.recipient.address, error }));
  });

  formRoute('login', async ({ request, reply, copy, session, form, token }) => {
    if (session.address) return toMessage(reply, token);
    const result = await logIn(db, copy.recipient.address, { address: form.address, password: form.password }, accounts);
    metrics?.portalEvent(result === 'ok' ? 'login' : 'login_failed');
    if (result === 'ok') {
      setSession(reply, await logInPortalSession(db, sessions, session, accountAddress(copy.recipient.address)));
      return toMessage(reply, token);
    }
    guesses.recordAuthFailure(request.ip);
    if (result === 'locked') return render(reply, copy, token, session, await stageOf(db, copy, session));
    const error = accountTexts[copy.language].wrongLogin;
    return page(reply, 401, loginPage(copy.language, { token, csrf: session.csrf, address: typeof form.address === 'string' ? form.address : '', error }));
  });

  formRoute('unlock', async ({ request, reply, copy, session, form, token }) => {
    const stage = await stageOf(db, copy, session);
    if (stage.kind !== 'unlock' || !copy.content.unlockCode) return toMessage(reply, token);
    const result = await checkUnlockCode(db, copy.recipient.address, copy.content.unlockCode, form.unlockCode, accounts);
    if (result === 'ok') {
      await markUnlocked(db, session, copy.recipient.id);
      return toMessage(reply, token);
    }
    guesses.recordAuthFailure(request.ip);
    if (result === 'locked') return render(reply, copy, token, session, await stageOf(db, copy, session));
    return page(reply, 400, unlockPage(copy.language, { token, csrf: session.csrf, error: accountTexts[copy.language].wrongUnlock }));
  });

  for (const [action, decision] of [['accept', 'accepted_by_recipient'], ['refuse', 'refused']] as const) {
    formRoute(action, async ({ reply, copy, session, token }) => {
      // Only from the acceptance page: logged in as the addressee, unlocked, still undecided.
      if ((await stageOf(db, copy, session)).kind === 'decide') await decide(db, copy, decision, PORTAL_ACTOR);
      return toMessage(reply, token);
    });
  }

  formRoute('logout', async ({ reply, session, token }) => {
    await endPortalSession(db, session);
    clearSession(reply);
    return reply.code(303).header('location', `/r/${token}`).send();
  });

  function contentPage(copy: PortalCopyView, token: string, session?: PortalSession) {
    const footer = session ? logoutForm(copy.language, token, session.csrf) : undefined;
    return messagePage(copy.language, { token, from: sender(copy), sentAt: copy.message.createdAt, content: copy.content, ...(footer && { footer }) });
  }

  /** The page of a stage (src/core/portal-stage.ts), with its status code. */
  function render(reply: FastifyReply, copy: PortalCopyView, token: string, session: PortalSession, stage: Stage) {
    const language = copy.language;
    const t = accountTexts[language];
    const address = copy.recipient.address;
    const logout = session.address ? { token, csrf: session.csrf } : undefined;
    switch (stage.kind) {
      case 'locked':
        reply.header('retry-after', String(Math.max(1, Math.ceil((stage.until.getTime() - Date.now()) / 1000))));
        return page(reply, 429, noticePage(language, { title: t.lockedTitle, text: t.locked(formatDate(language, stage.until)), logout }));
      case 'register':
        return page(reply, 200, registerStartPage(language, { token, csrf: session.csrf, address }));
      case 'code_sent':
        return page(reply, 200, registerFormPage(language, { token, csrf: session.csrf, address }));
      case 'login':
        return page(reply, 200, loginPage(language, { token, csrf: session.csrf, address }));
      case 'other_account':
        return page(reply, 403, noticePage(language, { title: t.otherAccountTitle, text: t.otherAccount(session.address ?? ''), logout }));
      case 'unlock':
        return page(reply, 200, unlockPage(language, { token, csrf: session.csrf }));
      case 'not_ready':
        return page(reply, 409, noticePage(language, { title: t.notReadyTitle, text: t.notReady, logout }));
      case 'refused':
        return page(reply, 403, noticePage(language, { title: t.refusedTitle, text: t.refused, logout }));
      case 'expired':
        return page(reply, 410, noticePage(language, { title: t.expiredTitle, text: t.expired, logout }));
      case 'decide':
        return page(reply, 200, acceptPage(language, { token, csrf: session.csrf, sender: sender(copy), sentAt: copy.message.createdAt, acceptBy: stage.acceptBy }));
      case 'content':
        return page(reply, 200, contentPage(copy, token, session));
    }
  }
}

/** One cookie's value from a Cookie header (no library needed for one name). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function page(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

function tooMany(reply: FastifyReply, language: Language, error: AppError) {
  const retry = (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  if (retry) reply.header('retry-after', String(retry));
  return page(reply, 429, errorPage(language, texts[language].tooManyTitle, texts[language].tooMany));
}
