import { readFileSync } from 'node:fs';
import type { SecureServerOptions } from 'node:http2';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { Runtime } from './runtime.ts';

/**
 * Builds the app and listens. HTTPS when TLS_CERT_FILE/TLS_KEY_FILE are set;
 * with TLS_CLIENT_CA_FILE, clients must present a certificate from that CA (mTLS).
 */
export async function listen(runtime: Runtime): Promise<FastifyInstance> {
  const { config } = runtime;
  const https = tlsOptions(config);
  const app = await buildApp({
    config,
    core: runtime.core,
    pool: runtime.database.pool,
    log: runtime.log,
    metrics: runtime.metrics,
    ...(https && { https }),
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  return app;
}

export function tlsOptions(config: Config): SecureServerOptions | undefined {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return undefined;
  return {
    cert: readFileSync(config.TLS_CERT_FILE),
    key: readFileSync(config.TLS_KEY_FILE),
    minVersion: 'TLSv1.2',
    ...(config.TLS_CLIENT_CA_FILE && {
      ca: readFileSync(config.TLS_CLIENT_CA_FILE),
      requestCert: true,
      rejectUnauthorized: true,
    }),
  };
}
