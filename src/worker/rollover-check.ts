import type { Db } from '../db/client.ts';
import { identitiesNearExpiry } from '../core/identities.ts';
import type { Logger } from '../logger.ts';

const HOUR = 3_600_000;

/**
 * Warns, at start and then hourly, about every signing identity within a week
 * of expiry, so an operator imports its successor before mail goes out
 * unsigned. The metric sealpost_certificate_expiry_timestamp_seconds carries the
 * same fact for alerting.
 */
export function startRolloverCheck(db: Db, log: Logger, everyMs = HOUR): { stop(): Promise<void>; check(): Promise<void> } {
  const warnAboutExpiringIdentities = async () => {
    try {
      for (const w of await identitiesNearExpiry(db)) {
        log.warn(
          { tenantId: w.tenantId, identityId: w.id, scope: w.scope, fingerprint: w.fingerprint, notAfter: w.notAfter.toISOString(), daysLeft: w.daysLeft },
          'signing identity expires soon: import its successor',
        );
      }
    } catch (err) {
      log.warn({ err }, 'could not check signing identities for expiry');
    }
  };
  let running: Promise<void> = Promise.resolve();
  const check = () => (running = warnAboutExpiringIdentities());
  void check();
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
    check,
  };
}
