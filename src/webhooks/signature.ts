import { createHmac } from 'node:crypto';

/**
 * The `Sealpost-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `<t>.<body>`, keyed with the webhook secret exactly as shown at creation
 * (`whsec_…`, its UTF-8 bytes). The same scheme as Stripe's: a receiver
 * recomputes it and refuses old timestamps (docs/webhooks.md).
 */
export function webhookSignature(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${mac}`;
}
