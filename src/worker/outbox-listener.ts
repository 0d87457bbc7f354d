import pg from 'pg';
import type { Logger } from '../logger.ts';
import { OUTBOX_CHANNEL } from '../outbox/channel.ts';

/**
 * Holds one connection that LISTENs for new deliveries and calls `onWake`.
 * Reconnects after a lost connection; polling in the worker covers the gap.
 */
export function listenForDeliveries(url: string, onWake: () => void, log: Logger): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString: url, application_name: 'sealpost-listener' });
    next.on('notification', () => onWake());
    next.on('error', (err) => {
      log.warn({ err }, 'outbox listener connection lost; reconnecting');
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (closed) return void (await next.end().catch(() => {}));
      client = next;
      onWake();
    } catch (err) {
      log.warn({ err }, 'outbox listener could not connect; retrying');
      await next.end().catch(() => {});
      scheduleReconnect();
    }
  };
  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    const stale = client;
    client = undefined;
    void stale?.end().catch(() => {});
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, 1000);
    retryTimer.unref();
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.end().catch(() => {});
    },
  };
}
