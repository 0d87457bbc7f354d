import { simpleParser } from 'mailparser';
import type { FastifyInstance } from 'fastify';
import type { SmtpPeer } from '../support/smtp-peer.ts';

type Reply = Awaited<ReturnType<FastifyInstance['inject']>>;

/**
 * A recipient's browser as far as the portal cares, over app.inject: keeps the
 * session cookie, posts forms url-encoded, reads the CSRF token from the last page.
 */
export class PortalClient {
  cookie: string | undefined;
  last: Reply | undefined;

  constructor(
    private readonly app: FastifyInstance,
    readonly token: string,
    readonly ip = '203.0.113.10',
  ) {}

  async get(path = ''): Promise<Reply> {
    return this.keep(await this.app.inject({ url: `/r/${this.token}${path}`, remoteAddress: this.ip, headers: this.cookie ? { cookie: this.cookie } : {} }));
  }

  async post(action: string, form: Record<string, string> = {}, options: { csrf?: boolean } = {}): Promise<Reply> {
    const fields = { ...(options.csrf === false ? {} : { csrf: this.csrf() }), ...form };
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url: `/r/${this.token}/${action}`,
        remoteAddress: this.ip,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookie && { cookie: this.cookie }) },
        payload: new URLSearchParams(fields).toString(),
      }),
    );
  }

  /** "Open message", then the page it leads to. */
  async open(): Promise<Reply> {
    const opened = await this.post('open', {}, { csrf: false });
    if (opened.statusCode !== 303) throw new Error(`open answered ${opened.statusCode}`);
    return this.get('/message');
  }

  csrf(): string {
    return /name="csrf" value="([^"]+)"/.exec(this.last?.body ?? '')?.[1] ?? '';
  }

  private keep(reply: Reply): Reply {
    const set = reply.headers['set-cookie'];
    const value = (Array.isArray(set) ? set[0] : set)?.split(';')[0];
    if (value !== undefined) this.cookie = value.endsWith('=') ? undefined : value;
    if (reply.statusCode !== 303) this.last = reply;
    return reply;
  }
}

/** The newest registration code mailed to `address` after `seen` such mails, from the real SMTP peer. */
export async function codeMailedTo(peer: SmtpPeer, address: string, seen: number, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = peer.received.filter((m) => m.to.includes(address) && m.raw.toString('latin1').includes('X-Sealpost-Notification: registration-code'));
    if (mails.length > seen) {
      const text = (await simpleParser(mails[mails.length - 1]!.raw)).text ?? '';
      const match = /\b([0-9]{4}) ([0-9]{4})\b/.exec(text);
      if (!match) throw new Error(`no code in the mail to ${address}`);
      return `${match[1]}${match[2]}`;
    }
    if (Date.now() > deadline) throw new Error(`no registration code for ${address} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const codeMailsTo = (peer: SmtpPeer, address: string) =>
  peer.received.filter((m) => m.to.includes(address) && m.raw.toString('latin1').includes('X-Sealpost-Notification: registration-code')).length;

/** The portal notifications (not code mails) received for `address`, oldest first. */
export const notificationsTo = (peer: SmtpPeer, address: string) =>
  peer.received.filter((m) => m.to.includes(address) && /^X-Sealpost-Notification: (confidential|personal|registered)\r?$/m.test(m.raw.toString('latin1')));
