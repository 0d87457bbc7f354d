import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.ts';
import { classifySmtpError, queueIdFromResponse, type DeliveryOutcome } from './smtp-outcome.ts';

export interface SmtpTransportOptions {
  url: string;
  /** PEM bundle to trust for the relay's certificate in place of the system store. */
  caFile?: string | undefined;
  timeoutMs: number;
  maxConnections: number;
  log: Logger;
}

export interface Envelope {
  from: string;
  to: string;
}

export interface MailTransport {
  send(raw: Buffer, envelope: Envelope): Promise<DeliveryOutcome>;
  close(): void;
}

/**
 * Hands finished messages to one SMTP relay (SMTP_URL) over pooled connections.
 * STARTTLS is used whenever the relay offers it; `smtps://` is implicit TLS.
 */
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const transporter = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    tls: {
      minVersion: 'TLSv1.2',
      ...(options.caFile && { ca: readFileSync(options.caFile) }),
    },
    logger: false,
  } as Parameters<typeof nodemailer.createTransport>[0]);

  return {
    async send(raw, envelope) {
      try {
        const info = await transporter.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw });
        const response = String(info.response ?? '');
        return { kind: 'delivered', response, queueId: queueIdFromResponse(response) };
      } catch (error) {
        const outcome = classifySmtpError(error);
        options.log.debug({ err: error, outcome: outcome.kind }, 'SMTP hand-over failed');
        return outcome;
      }
    },
    close() {
      transporter.close();
    },
  };
}
