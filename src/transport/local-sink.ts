import { createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../logger.ts';

export interface LocalSink {
  url: string;
  directory: string;
  close(): Promise<void>;
}

/**
 * A development mail sink: an SMTP server on loopback that stores every message
 * it accepts as an .eml file. Used when SMTP_URL is not set, so a fresh checkout
 * delivers somewhere visible instead of nowhere.
 */
export async function startLocalSink(options: { directory: string; port: number; log: Logger }): Promise<LocalSink> {
  const directory = resolve(options.directory);
  mkdirSync(directory, { recursive: true });
  const server = new SMTPServer({
    name: 'sealpost-local-sink',
    banner: 'Sealpost local mail sink (development only)',
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const id = randomUUID();
      const partial = join(directory, `.${id}.part`);
      const final = join(directory, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
      pipeline(stream, createWriteStream(partial))
        .then(() => {
          renameSync(partial, final);
          callback(null, `Ok: queued as ${id}`);
        })
        .catch((error: unknown) => callback(error as Error));
    },
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(options.port, '127.0.0.1', () => res());
  });
  server.on('error', (err) => options.log.error({ err }, 'local mail sink error'));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.log.warn(
    { directory, port },
    `SMTP_URL is not set: mail is NOT sent anywhere; it is written as .eml files to ${directory}. Set SMTP_URL to deliver.`,
  );
  return {
    url: `smtp://127.0.0.1:${port}`,
    directory,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
