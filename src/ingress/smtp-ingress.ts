import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Config } from '../config.ts';
import { normaliseAddress } from '../core/address.ts';
import { authenticate, authenticateCertificate } from '../core/authenticate.ts';
import type { CoreContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { authorize, type Principal } from '../core/principal.ts';
import { submitMessage } from '../core/submit-message.ts';
import { requestBodyLimit } from '../config.ts';
import { RequestThrottle } from '../http/throttle.ts';
import type { Logger } from '../logger.ts';
import { openInbound } from './inbound-smime.ts';
import { parseMail, toSubmission, type EnvelopeRecipient } from './mail-submission.ts';
import { replyFor, reply, smtpError } from './smtp-replies.ts';
import { chooseMode, parseTenantModes, readSubjectTags, stripRoutingSuffix } from './subject-tags.ts';

export interface SmtpIngress {
  port: number;
  close(): Promise<void>;
}

export interface IngressDeps {
  config: Config;
  core: CoreContext;
  log: Logger;
}

/** What one connection has established: who is sending, and what this transaction is. */
interface SessionState {
  principal?: Principal;
  authenticatedBy?: 'certificate' | 'password';
  direction?: 'outbound' | 'inbound';
  recipients: EnvelopeRecipient[];
}

/**
 * The SMTP door (docs/ingress.md): STARTTLS before anything else, then a
 * client certificate naming an API key (CN = key id, verified against the
 * client CA) or AUTH PLAIN/LOGIN with key id and secret. Each accepted message
 * becomes the same submission the REST door makes, committed before the 250.
 */
export async function startSmtpIngress(deps: IngressDeps): Promise<SmtpIngress> {
  const { config, core } = deps;
  const log = deps.log.child({ door: 'smtp' });
  const certFile = config.SMTP_INGRESS_TLS_CERT_FILE ?? config.TLS_CERT_FILE;
  const keyFile = config.SMTP_INGRESS_TLS_KEY_FILE ?? config.TLS_KEY_FILE;
  if (!certFile || !keyFile) throw new Error('the SMTP ingress needs a TLS certificate (SMTP_INGRESS_TLS_CERT_FILE or TLS_CERT_FILE)');
  const clientCa = config.SMTP_INGRESS_CLIENT_CA_FILE ?? config.TLS_CLIENT_CA_FILE;
  const sizeLimit = requestBodyLimit(config);
  const suffix = config.SMTP_INGRESS_ROUTING_SUFFIX;
  const tenantModes = parseTenantModes(config.SMTP_INGRESS_TENANT_MODES);
  const throttle = new RequestThrottle({
    authFailures: config.AUTH_FAILURE_LIMIT,
    authFailureWindowMs: config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
    requestsPerMinute: config.RATE_LIMIT_PER_KEY_PER_MINUTE,
  });
  const sessions = new Map<string, SessionState>();
  const state = (session: SMTPServerSession): SessionState => {
    let s = sessions.get(session.id);
    if (!s) sessions.set(session.id, (s = { recipients: [] }));
    return s;
  };
  const fail = (callback: (err?: Error | null) => void, error: unknown, context: Record<string, unknown>) => {
    const answer = replyFor(error);
    if (answer.code === 451 && !(error instanceof AppError)) log.error({ err: error, ...context }, 'SMTP ingress failed');
    else log.info({ ...context, code: answer.code, reason: answer.message }, 'SMTP ingress refused');
    callback(smtpError(answer));
  };

  const server = new SMTPServer({
    name: config.MESSAGE_ID_DOMAIN,
    banner: 'Sealpost SMTP ingress: STARTTLS, then a client certificate or AUTH',
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    minVersion: 'TLSv1.2',
    ...(clientCa && { ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: false }),
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: false,
    size: sizeLimit,
    logger: false,
    closeTimeout: config.SHUTDOWN_GRACE_MS,

    onConnect(session, callback) {
      try {
        throttle.assertClientAllowed(session.remoteAddress);
        callback();
      } catch (error) {
        callback(reply(421, '4.7.0', (error as Error).message));
      }
    },

    onSecure(socket, session, callback) {
      const tls = socket as TLSSocket;
      const presented = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate() : undefined;
      if (!presented || Object.keys(presented).length === 0) return callback();
      if (!tls.authorized) {
        throttle.recordAuthFailure(session.remoteAddress);
        log.info({ remoteAddress: session.remoteAddress, reason: tls.authorizationError }, 'SMTP client certificate refused');
        return callback(reply(554, '5.7.1', `the client certificate is not issued by a CA this server trusts (${String(tls.authorizationError)})`));
      }
      const keyId = typeof presented.subject?.CN === 'string' ? presented.subject.CN : '';
      authenticateCertificate(core.db, keyId).then(
        (principal) => {
          Object.assign(state(session), { principal, authenticatedBy: 'certificate' });
          callback();
        },
        (error: unknown) => {
          if (error instanceof AppError && error.code === 'unauthorized') throttle.recordAuthFailure(session.remoteAddress);
          fail(callback, error instanceof AppError && error.code === 'unauthorized' ? new AppError('forbidden', error.message) : error, { stage: 'certificate' });
        },
      );
    },

    onAuth(auth, session, callback) {
      const s = state(session);
      if (s.principal) return callback(reply(503, '5.5.1', `already authenticated by the client certificate of key ${s.principal.keyId}`));
      const keyId = auth.username ?? '';
      const secret = auth.password ?? '';
      Promise.resolve()
        .then(() => throttle.assertClientAllowed(session.remoteAddress))
        .then(() => authenticate(core.db, keyId, secret))
        .then(
          (principal) => {
            Object.assign(s, { principal, authenticatedBy: 'password' });
            callback(null, { user: principal.keyId });
          },
          (error: unknown) => {
            if (error instanceof AppError && error.code === 'unauthorized') throttle.recordAuthFailure(session.remoteAddress);
            fail(callback, error, { stage: 'auth' });
          },
        );
    },

    onMailFrom(address, session, callback) {
      const s = state(session);
      s.direction = undefined;
      s.recipients = [];
      if (!session.secure) return callback(reply(530, '5.7.0', 'Must issue a STARTTLS command first'));
      if (!s.principal) {
        return callback(reply(530, '5.7.0', 'Authentication required: a client certificate whose CN is an API key id, or AUTH PLAIN/LOGIN with key id and secret'));
      }
      try {
        authorize(s.principal, 'message:submit');
        throttle.takeRequest(s.principal.keyId);
        if (address.address !== '') normaliseAddress(address.address, 'MAIL FROM');
        callback();
      } catch (error) {
        fail(callback, error, { stage: 'mail', keyId: s.principal.keyId });
      }
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      const s = state(session);
      const principal = s.principal!;
      try {
        const recipient = normaliseAddress(stripRoutingSuffix(address.address, suffix).address, 'RCPT TO');
        if (s.recipients.some((r) => r.address.toLowerCase() === recipient.toLowerCase())) return callback();
        if (s.recipients.length >= config.MAX_RECIPIENTS) {
          throw new AppError('too_many_recipients', `at most ${config.MAX_RECIPIENTS} recipients per message; send the rest in another`);
        }
        const own = principal.senderDomains.includes(domainOf(recipient));
        const direction = own ? 'inbound' : 'outbound';
        if (s.direction && s.direction !== direction) {
          throw new AppError('forbidden', `${recipient} is ${own ? "in this tenant's own domains" : 'outside this tenant\'s domains'}, the earlier recipients are not: send inbound and outbound mail as separate messages`);
        }
        if (direction === 'outbound') {
          const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          if (sender === '') throw new AppError('sender_not_allowed', 'a message sent out needs a sender (MAIL FROM:<> is for bounces)');
          const domain = domainOf(sender.toLowerCase());
          if (principal.senderDomains.length > 0 && !principal.senderDomains.includes(domain)) {
            throw new AppError('sender_not_allowed', `this tenant may not send from ${domain}`);
          }
        }
        s.direction = direction;
        s.recipients.push({ address: recipient });
        callback();
      } catch (error) {
        fail(callback, error, { stage: 'rcpt', keyId: principal.keyId });
      }
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const s = state(session);
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= sizeLimit) chunks.push(chunk);
      });
      stream.on('error', (error: Error) => fail(callback, error, { stage: 'data' }));
      stream.on('end', () => {
        if (stream.sizeExceeded || size > sizeLimit) {
          return callback(reply(552, '5.3.4', `message is larger than the limit of ${sizeLimit} bytes (MAX_MESSAGE_BYTES, as MIME)`));
        }
        const context = { stage: 'data', keyId: s.principal!.keyId, direction: s.direction, recipients: s.recipients.length };
        accept(Buffer.concat(chunks), session, s).then(
          (messageId) => {
            log.info({ ...context, messageId }, 'SMTP ingress accepted a message');
            callback(null, `2.6.0 Ok: queued as ${messageId}`);
          },
          (error: unknown) => fail(callback, error, context),
        );
      });
    },

    onClose(session) {
      sessions.delete(session.id);
    },
  });

  /** Parses, maps and commits one message; resolves with the message id once it is committed. */
  async function accept(raw: Buffer, session: SMTPServerSession, s: SessionState): Promise<string> {
    const principal = s.principal!;
    const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    if (s.direction === 'inbound') {
      const opened = await openInbound(core, principal.tenantId, raw, { from: envelopeFrom, recipients: s.recipients.map((r) => r.address) });
      const mail = await parseMail(opened.message);
      const tags = [opened.decrypted && '[secure]', opened.signature?.valid && '[signed OK]'].filter(Boolean).join(' ');
      const subject = [tags, mail.subject ?? ''].filter(Boolean).join(' ');
      const { input, idempotencyKey } = toSubmission(mail, { from: envelopeFrom, recipients: s.recipients }, { subject, mode: 'confidential', protection: { sign: false, encryption: 'never' } }, suffix);
      log.info(
        { decrypted: opened.decrypted, decryptedWith: opened.decryptedWith?.identityId, signature: opened.signature, harvest: opened.harvest },
        'SMTP ingress opened an inbound message',
      );
      const { message } = await submitMessage(core, principal, input, { via: 'smtp', direction: 'inbound', idempotencyKey });
      return message.id;
    }
    const mail = await parseMail(raw);
    const tags = readSubjectTags(mail.subject ?? '');
    const choice = chooseMode(tags, { tenant: tenantModes.get(principal.tenantId), door: config.SMTP_INGRESS_DEFAULT_MODE });
    const { input, idempotencyKey } = toSubmission(mail, { from: envelopeFrom, recipients: s.recipients }, { subject: tags.subject, ...choice }, suffix);
    const { message } = await submitMessage(core, principal, input, { via: 'smtp', idempotencyKey });
    return message.id;
  }

  server.on('error', (err) => log.error({ err }, 'SMTP ingress error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.SMTP_INGRESS_PORT ?? 0, config.SMTP_INGRESS_HOST ?? config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  log.info({ port, host: config.SMTP_INGRESS_HOST ?? config.HOST, clientCertificates: Boolean(clientCa) }, 'SMTP ingress listening');
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);
