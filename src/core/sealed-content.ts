import type { ContentCipher } from '../security/content-cipher.ts';
import type { Protection } from './protection.ts';
import type { UnlockCodeHash } from './unlock-code.ts';

/** The parts of a message sealed together in messages.content. */
export interface SealedContent {
  subject: string;
  text?: string;
  html?: string;
  fromName?: string;
  attachments: Array<{ id: string; filename: string; contentType: string }>;
  /** Absent: the default protection (sign when possible, encrypt when possible). */
  protection?: Protection;
  /** The sender's unlock code for personal/registered mail, hashed (src/core/unlock-code.ts); absent: none. */
  unlockCode?: UnlockCodeHash;
}

export const contentContext = (messageId: string) => `message:${messageId}`;
export const attachmentContext = (attachmentId: string) => `attachment:${attachmentId}`;

export function sealContent(cipher: ContentCipher, messageId: string, content: SealedContent): Buffer {
  return cipher.seal(Buffer.from(JSON.stringify(content), 'utf8'), contentContext(messageId));
}

export function openContent(cipher: ContentCipher, messageId: string, sealed: Buffer): SealedContent {
  return JSON.parse(cipher.open(sealed, contentContext(messageId)).toString('utf8')) as SealedContent;
}
