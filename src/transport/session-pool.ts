import type { SmtpSession } from './smtp-session.ts';

export interface SessionPoolOptions {
  /** Sessions open at once, all destinations together. */
  maxConnections: number;
  /** Sessions open at once to one destination. */
  maxPerDestination: number;
  /** An idle session is closed after this long. */
  idleMs: number;
  /** A session is closed after carrying this many messages (peers limit it too). */
  maxMessagesPerSession: number;
}

export interface SessionPool {
  /**
   * Runs `use` on a session to `key`: an idle one when there is one, else a new
   * one from `open`, waiting while the destination or the pool is at its limit.
   * The session goes back to the idle list when `use` resolves and it is still usable.
   */
  withSession<T>(key: string, open: () => Promise<SmtpSession>, use: (session: SmtpSession, reused: boolean) => Promise<T>): Promise<T>;
  close(): void;
}

interface Idle {
  session: SmtpSession;
  timer: NodeJS.Timeout;
}

/**
 * Connection reuse per destination (host:port and the TLS settings, so sessions
 * with different policies never mix) with bounded concurrency per destination
 * and overall. A slot is held from open (or reuse) until the session is returned.
 */
export function createSessionPool(options: SessionPoolOptions): SessionPool {
  const idle = new Map<string, Idle[]>();
  const busy = new Map<string, number>();
  let total = 0;
  const waiting: Array<{ key: string; wake: () => void }> = [];
  let closed = false;

  const hasRoom = (key: string) => (busy.get(key) ?? 0) < options.maxPerDestination && total < options.maxConnections;

  const wakeAll = () => waiting.splice(0).forEach((w) => w.wake());

  const releaseSlot = (key: string) => {
    busy.set(key, (busy.get(key) ?? 1) - 1);
    total -= 1;
    wakeAll();
  };

  // Idle sessions count against the limits too (they hold a socket): busy counts them.
  const evictOther = (key: string): boolean => {
    for (const [other, list] of idle) {
      if (other === key || list.length === 0) continue;
      const entry = list.shift()!;
      clearTimeout(entry.timer);
      entry.session.close();
      releaseSlot(other);
      return true;
    }
    return false;
  };

  const takeIdle = (key: string): SmtpSession | undefined => {
    const list = idle.get(key);
    while (list && list.length > 0) {
      const entry = list.pop()!;
      clearTimeout(entry.timer);
      if (entry.session.usable) return entry.session;
      releaseSlot(key);
    }
    return undefined;
  };

  const putIdle = (key: string, session: SmtpSession) => {
    if (closed || !session.usable || session.messages >= options.maxMessagesPerSession) {
      session.close();
      releaseSlot(key);
      return;
    }
    const list = idle.get(key) ?? [];
    idle.set(key, list);
    const entry: Idle = {
      session,
      timer: setTimeout(() => {
        const at = list.indexOf(entry);
        if (at >= 0) {
          list.splice(at, 1);
          session.close();
          releaseSlot(key);
        }
      }, options.idleMs),
    };
    entry.timer.unref();
    list.push(entry);
    wakeAll();
  };

  const obtain = async (key: string, open: () => Promise<SmtpSession>): Promise<{ session: SmtpSession; reused: boolean }> => {
    // Each pass ends with a session, or waits for a session or slot to come back; the guard only bounds the loop.
    for (let guard = 0; guard < 1_000_000; guard++) {
      if (closed) throw new Error('the SMTP session pool is closed');
      const session = takeIdle(key);
      if (session) return { session, reused: true };
      if (hasRoom(key)) {
        busy.set(key, (busy.get(key) ?? 0) + 1);
        total += 1;
        try {
          return { session: await open(), reused: false };
        } catch (error) {
          releaseSlot(key);
          throw error;
        }
      }
      if (total >= options.maxConnections && (busy.get(key) ?? 0) < options.maxPerDestination && evictOther(key)) continue;
      await new Promise<void>((wake) => waiting.push({ key, wake }));
    }
    throw new Error('waited too long for an SMTP session');
  };

  return {
    async withSession(key, open, use) {
      const { session, reused } = await obtain(key, open);
      try {
        return await use(session, reused);
      } finally {
        putIdle(key, session);
      }
    },
    close() {
      closed = true;
      for (const [key, list] of idle) {
        for (const entry of list.splice(0)) {
          clearTimeout(entry.timer);
          entry.session.close();
          releaseSlot(key);
        }
      }
      waiting.splice(0).forEach((w) => w.wake());
    },
  };
}
