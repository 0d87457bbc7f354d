import { findAttachments } from '../db/repositories/messages.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { findEncryptionCertificate } from '../core/certificates.ts';
import { deliveryRoute, type DeliveryRoute, type RouteTransportPolicy } from '../core/delivery-route.ts';
import { issuePortalToken } from '../core/portal-tokens.ts';
import { scheduleRegisteredExpiry } from '../core/portal-acceptance.ts';
import { defaultProtection } from '../core/protection.ts';
import { attachmentContext, openContent, type SealedContent } from '../core/sealed-content.ts';
import type { Language } from '../core/states.ts';
import { renderMessage } from '../mime/render-message.ts';
import { portalLink } from '../portal/links.ts';
import { renderNotification } from '../portal/notification.ts';
import { protectMessage, type ProtectionDeps } from './protect-message.ts';

export interface CopyDeps extends ProtectionDeps {
  messageIdDomain: string;
  portal: {
    /** PUBLIC_BASE_URL, or http://HOST:PORT when unset. */
    baseUrl: string;
    tokenTtlSeconds: number;
    /** Registered messages' links live as long as their acceptance period. */
    registeredTtlSeconds: number;
  };
}

export interface PreparedCopy {
  raw: Buffer;
  /** For the `delivered` event: the route, what signed and encrypted the copy (or why not), and for the portal when the link expires. */
  detail: { route: DeliveryRoute; smime: Record<string, unknown>; portal?: { linkExpiresAt: string } };
}

/**
 * Render and protect stages of one recipient's copy: decide its route
 * (src/core/delivery-route.ts), render the full message (`smime`, `signed`) or a
 * notification with a fresh portal link (`portal`), then sign (and for `smime`
 * encrypt) it, as the message's protection (src/core/protection.ts) allows. The portal token is committed before the notification is sent;
 * a retried delivery issues a new one (the earlier link, never delivered, just
 * expires).
 */
export async function prepareCopy(
  deps: CopyDeps,
  message: MessageRow,
  recipient: RecipientRow,
  recipients: RecipientRow[],
  /** The recipient domain's own transport policy (src/core/transport-policies.ts transportPolicyFor), if any. */
  policy: { mode: RouteTransportPolicy['policy']; business: boolean } | undefined,
): Promise<PreparedCopy> {
  const content = openContent(deps.cipher, message.id, message.content);
  const protection = content.protection ?? defaultProtection;
  const certificate = await findEncryptionCertificate(deps, message.tenantId, recipient.address);
  const route = deliveryRoute({
    mode: message.mode,
    recipientCertificate: message.mode === 'confidential' && certificate !== undefined,
    transportPolicy: policy && { policy: policy.mode, business: policy.business },
    encryption: protection.encryption,
  });
  const sign = { sign: protection.sign };
  if (route === 'portal') {
    const ttl = message.mode === 'registered' ? deps.portal.registeredTtlSeconds : deps.portal.tokenTtlSeconds;
    const subject = { tenantId: message.tenantId, messageId: message.id, recipientId: recipient.id };
    // The link and (registered) the job that ends its acceptance period are committed together, before the notification leaves.
    const { token, expiresAt } = await deps.db.transaction(async (tx) => {
      const issued = await issuePortalToken(tx, subject, ttl);
      if (message.mode === 'registered') await scheduleRegisteredExpiry(tx, subject, ttl);
      return issued;
    });
    const raw = await renderNotification({
      messageId: message.id,
      recipient,
      from: { address: message.fromAddress, name: content.fromName },
      mode: message.mode,
      language: message.language as Language,
      url: portalLink(deps.portal.baseUrl, token),
      expiresAt,
      submittedAt: message.createdAt,
      messageIdDomain: deps.messageIdDomain,
    });
    const reason = 'portal notification: the content stays on the server';
    const signed = await protectMessage(deps, message, recipient, raw, undefined, reason, sign);
    return { raw: signed.raw, detail: { route, smime: signed.detail, portal: { linkExpiresAt: expiresAt.toISOString() } } };
  }
  const raw = await renderFull(deps, message, recipient, recipients, content);
  const unencryptedReason =
    protection.encryption === 'never'
      ? 'the message asks for no encryption (protection encryption: never)'
      : `no valid certificate for ${recipient.address}; signed only to a business domain with enforced TLS`;
  const protectedCopy = await protectMessage(deps, message, recipient, raw, route === 'smime' ? certificate : undefined, unencryptedReason, sign);
  return { raw: protectedCopy.raw, detail: { route, smime: protectedCopy.detail } };
}

async function renderFull(deps: CopyDeps, message: MessageRow, recipient: RecipientRow, recipients: RecipientRow[], content: SealedContent): Promise<Buffer> {
  const stored = await findAttachments(deps.db, message.id);
  const attachments = content.attachments.map((meta) => {
    const row = stored.find((s) => s.id === meta.id);
    if (!row) throw new Error(`attachment ${meta.id} of message ${message.id} is missing`);
    return { filename: meta.filename, contentType: meta.contentType, content: deps.cipher.open(row.content, attachmentContext(row.id)) };
  });
  const mailbox = (r: RecipientRow) => ({ address: r.address, name: r.displayName });
  return renderMessage({
    messageId: message.id,
    recipient,
    from: { address: message.fromAddress, name: content.fromName },
    to: recipients.filter((r) => r.kind === 'to').map(mailbox),
    cc: recipients.filter((r) => r.kind === 'cc').map(mailbox),
    content,
    attachments,
    submittedAt: message.createdAt,
    messageIdDomain: deps.messageIdDomain,
  });
}
