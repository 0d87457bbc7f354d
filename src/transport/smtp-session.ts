import { TLSSocket, type ConnectionOptions } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from '../logger.ts';
import { encodeDataOurselves } from './smtp-data-hook.ts';
import { PolicyBreach, type DeliveryRecord } from './smtp-outcome.ts';

/** What TLS a session must have (src/core/transport-policies.ts decides it per destination). */
export interface TlsRequirement {
  /** STARTTLS (or implicit TLS) is mandatory: a peer that does not offer it is a policy breach. */
  required: boolean;
  /** The peer's certificate must verify against `ca` (or the system store) and name `servername`. */
  verify: boolean;
  /** PEM bundle trusted instead of the system store. */
  ca?: string | Buffer | undefined;
  /** Our client certificate and key (mutual TLS). */
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

/** Where one session goes. */
export interface SessionTarget {
  /** Address to connect to (an IP for MX delivery, the relay's name otherwise). */
  host: string;
  port: number;
  /** Name the certificate must carry (MX host or relay host); also sent as SNI. */
  servername?: string | undefined;
  /** smtps:// (TLS from the first byte) rather than STARTTLS. */
  implicitTls: boolean;
  tls: TlsRequirement;
  auth?: { user: string; pass: string } | undefined;
}

export interface SessionOptions {
  timeoutMs: number;
  /** Our EHLO name. */
  name?: string | undefined;
  log: Logger;
}

/** The connection-level half of the delivery record, read from the socket once the session is set up. */
export type SessionDetails = Pick<DeliveryRecord, 'ip' | 'port' | 'tlsVersion' | 'cipher' | 'peerCertificateSha256' | 'peerCertificateVerified'>;

export interface SmtpSession {
  readonly details: SessionDetails;
  /** Messages sent over this session so far. */
  readonly messages: number;
  /** False once the peer or the network closed it, or an error ended it. */
  readonly usable: boolean;
  /** One SMTP transaction (MAIL, RCPT, DATA); rejects with nodemailer's error (responseCode, code). */
  send(raw: Buffer, envelope: { from: string; to: string }): Promise<{ response: string }>;
  /** RSET after a refused transaction, so the session can carry the next one. */
  reset(): Promise<void>;
  close(): void;
}

/**
 * Opens one SMTP session with nodemailer's SMTPConnection (not its pool, which
 * hides the socket): connect, EHLO, STARTTLS when offered, then checks the TLS
 * requirement against what the socket actually negotiated, and only then
 * authenticates. Rejects with a PolicyBreach when the requirement is not met,
 * otherwise with nodemailer's error.
 */
export async function openSession(target: SessionTarget, options: SessionOptions): Promise<SmtpSession> {
  const tls: ConnectionOptions = {
    rejectUnauthorized: target.tls.verify,
    minVersion: 'TLSv1.2',
    ...(target.tls.ca && { ca: target.tls.ca }),
    ...(target.tls.cert && target.tls.key && { cert: target.tls.cert, key: target.tls.key }),
  };
  const connection = new SMTPConnection({
    host: target.host,
    port: target.port,
    secure: target.implicitTls,
    ...(target.servername && { servername: target.servername }),
    ...(options.name && { name: options.name }),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    tls,
    logger: false,
  });
  // The bytes after DATA come from src/transport/smtp-data.ts (native searches), not nodemailer's per-byte DataStream.
  const dataHook = encodeDataOurselves(connection);
  let usable = true;
  let lastError: unknown;
  connection.on('error', (error: unknown) => {
    usable = false;
    lastError = error;
  });
  connection.on('end', () => {
    usable = false;
  });

  try {
    // Errors while connecting are emitted as 'error', not passed to connect's callback; 'end' without either is a dropped connection.
    await new Promise<void>((resolve, reject) => {
      connection.once('error', reject);
      connection.once('end', () => reject(Object.assign(new Error('the connection closed during the SMTP greeting'), { code: 'ECONNECTION' })));
      connection.connect((error) => (error ? reject(error) : resolve()));
    });
  } catch (error) {
    const secured = connection.secure;
    connection.close();
    throw asPolicyBreach(error, target) ?? (secured ? droppedAfterHandshake(error, target) : undefined) ?? error;
  }

  const socket = connection._socket;
  const details = readDetails(socket, target);
  if (target.tls.required && !connection.secure) {
    connection.close();
    throw new PolicyBreach('tls_required', `${describe(target)} did not offer STARTTLS; the transport policy requires TLS`);
  }
  if (target.auth) {
    try {
      await new Promise<void>((resolve, reject) => connection.login(target.auth, (error) => (error ? reject(error) : resolve())));
    } catch (error) {
      connection.close();
      throw error;
    }
  }
  let messages = 0;
  return {
    details,
    get messages() {
      return messages;
    },
    get usable() {
      return usable;
    },
    send(raw, envelope) {
      return new Promise((resolve, reject) => {
        if (!usable) return reject(lastError ?? new Error('the SMTP session is closed'));
        messages += 1;
        connection.send({ from: envelope.from, to: [envelope.to] }, raw, (error, info) => {
          if (error) return reject(asPolicyBreach(error, target) ?? error);
          if (dataHook.uses === 0) warnDataHookUnused(options.log);
          resolve({ response: String(info.response ?? '') });
        });
      });
    },
    reset() {
      return new Promise((resolve, reject) => connection.reset((error) => (error ? reject(error) : resolve())));
    },
    close() {
      usable = false;
      try {
        connection.quit();
      } catch {
        connection.close();
      }
    },
  };
}

let dataHookWarned = false;
function warnDataHookUnused(log: Logger): void {
  if (dataHookWarned) return;
  dataHookWarned = true;
  log.warn('nodemailer encoded the message itself (src/transport/smtp-data-hook.ts no longer matches its internals): delivery is correct but slower');
}

function readDetails(socket: unknown, target: SessionTarget): SessionDetails {
  const details: SessionDetails = { port: target.port };
  if (socket && typeof socket === 'object' && 'remoteAddress' in socket) {
    details.ip = (socket as { remoteAddress?: string }).remoteAddress ?? target.host;
  }
  if (socket instanceof TLSSocket) {
    details.tlsVersion = socket.getProtocol() ?? undefined;
    details.cipher = socket.getCipher()?.name;
    const peer = socket.getPeerCertificate();
    if (peer && 'fingerprint256' in peer && peer.fingerprint256) details.peerCertificateSha256 = peer.fingerprint256.toLowerCase();
    details.peerCertificateVerified = socket.authorized;
  }
  return details;
}

const describe = (target: SessionTarget) => `${target.servername ?? target.host} (${target.host}:${target.port})`;

/** OpenSSL's certificate verification results, as node reports them on a TLS error. */
const certificateErrors = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
]);

/**
 * A TLS failure that means the policy cannot be met (the peer's certificate does
 * not verify, the peer refuses our client certificate, the peer only speaks an
 * old TLS version) becomes a PolicyBreach when TLS is required; anything else
 * (refused connection, reset, timeout) stays nodemailer's error: those heal.
 */
function asPolicyBreach(error: unknown, target: SessionTarget): PolicyBreach | undefined {
  if (!target.tls.required) return undefined;
  const e = error as { code?: string; originalCode?: string; message?: string; reason?: string };
  const code = e.originalCode ?? e.code ?? '';
  const text = `${e.message ?? ''} ${e.reason ?? ''}`;
  if (certificateErrors.has(code)) {
    return new PolicyBreach('tls_certificate_invalid', `the certificate of ${describe(target)} is not acceptable (${code}): ${e.message ?? ''}`.trim());
  }
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/i.test(code) ||
    /alert (certificate required|bad certificate|unknown ca|certificate unknown|certificate revoked|certificate expired|access denied)/i.test(text)) {
    return new PolicyBreach('tls_client_certificate_refused', `${describe(target)} refused our TLS client certificate (${code || 'TLS alert'})`);
  }
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/i.test(code) || /protocol version|unsupported protocol/i.test(text)) {
    return new PolicyBreach('tls_version_too_old', `${describe(target)} does not speak TLS 1.2 or newer (${code || 'protocol version'})`);
  }
  return undefined;
}

/**
 * A peer that refuses a client certificate under TLS 1.3 often sends no alert:
 * the handshake completes on our side and the peer then drops the connection
 * before answering EHLO. When we presented a certificate, that is a refusal.
 */
function droppedAfterHandshake(error: unknown, target: SessionTarget): PolicyBreach | undefined {
  if (!target.tls.required || !target.tls.cert) return undefined;
  const e = error as { code?: string; originalCode?: string };
  const dropped = e.code === 'ECONNECTION' || ['ECONNRESET', 'EPIPE'].includes(e.originalCode ?? '');
  if (!dropped) return undefined;
  return new PolicyBreach(
    'tls_client_certificate_refused',
    `${describe(target)} refused our TLS client certificate (it closed the session right after the TLS handshake, before answering EHLO)`,
  );
}
