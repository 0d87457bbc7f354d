import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SmimeError } from './errors.ts';
import type { PoolRequest, PoolResponse } from './pool-protocol.ts';
import type { Recipient } from './recipient.ts';
import type { SignOptions } from './sign-message.ts';
import type { Signer } from './signer.ts';

/**
 * A worker_threads pool for the CPU-bound S/MIME work, one thread per core by
 * default, so signing and encrypting a payroll run never blocks the event loop
 * and uses every core. Same functions as the library, same results.
 */
export interface SmimePool {
  readonly size: number;
  signMessage(mime: Buffer, signer: Signer, options?: SignOptions): Promise<Buffer>;
  encryptMessage(mime: Buffer, recipients: Recipient[]): Promise<Buffer>;
  signThenEncrypt(mime: Buffer, signer: Signer, recipients: Recipient[], options?: SignOptions): Promise<Buffer>;
  /** Waits for running tasks, refuses new ones, then terminates the threads. */
  close(): Promise<void>;
}

interface Task {
  request: PoolRequest;
  resolve(result: Buffer): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  /** Tasks sent to this thread and not yet answered, by id. */
  tasks: Map<number, Task>;
  /** Tasks completed; a thread that dies before its first is not replaced (it would fail again). */
  served: number;
}

/**
 * Tasks in flight per thread: two, so a thread prepares the next message while
 * the previous one's RSA/ECDSA signature runs on the libuv thread pool.
 */
const PER_THREAD = 2;

// The built package runs pool-worker.js directly. From source (tsx, vitest) the thread first registers
// tsx's loader, because worker threads do not inherit the parent's module hooks.
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(fromSource ? './pool-worker.ts' : './pool-worker.js', import.meta.url);
// import.meta.resolve where the runtime has it (tsx); else the bare name, resolved from the working directory.
const tsxApi = () => (typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api');
const newWorker = (): Worker =>
  fromSource
    ? new Worker(
        `import(${JSON.stringify(tsxApi())}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(workerUrl.href)}))`,
        { eval: true },
      )
    : new Worker(workerUrl);

export function createSmimePool(options: { size?: number } = {}): SmimePool {
  const size = Math.max(1, options.size ?? availableParallelism());
  const queue: Task[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const idle = () => slots.every((s) => s.tasks.size === 0) && queue.length === 0;

  const dispatch = () => {
    for (let round = 0; round < PER_THREAD; round++) {
      for (const slot of slots) {
        if (slot.tasks.size > round) continue;
        const task = queue.shift();
        if (!task) break;
        slot.tasks.set(task.request.id, task);
        slot.worker.postMessage(task.request); // the payload is copied once into the thread; the result comes back transferred
      }
    }
    if (idle()) drained?.();
  };

  const spawn = (): Slot => {
    const slot: Slot = { worker: newWorker(), tasks: new Map(), served: 0 };
    slot.worker.on('message', (response: PoolResponse) => {
      const task = slot.tasks.get(response.id);
      slot.tasks.delete(response.id);
      slot.served++;
      if (task) {
        if (response.error) task.reject(new SmimeError(response.error.code ?? 'smime_malformed', response.error.message));
        else task.resolve(Buffer.from(response.result.buffer, response.result.byteOffset, response.result.byteLength));
      }
      dispatch();
    });
    slot.worker.on('error', (error) => {
      for (const task of slot.tasks.values()) task.reject(error);
      slot.tasks.clear();
      if (slot.served === 0) for (const task of queue.splice(0)) task.reject(error);
    });
    slot.worker.on('exit', (code) => {
      for (const task of slot.tasks.values()) task.reject(new SmimeError('smime_pool_closed', `an S/MIME pool thread exited (${code})`));
      slot.tasks.clear();
      if (closing) return;
      if (slot.served === 0) {
        slots.splice(slots.indexOf(slot), 1);
        if (slots.length === 0) for (const task of queue.splice(0)) task.reject(new SmimeError('smime_pool_closed', 'no S/MIME pool thread could start'));
        return;
      }
      // A thread that died after working is replaced so the pool keeps its size.
      slots.splice(slots.indexOf(slot), 1, spawn());
      dispatch();
    });
    return slot;
  };
  for (let i = 0; i < size; i++) slots.push(spawn());

  const submit = (request: Omit<PoolRequest, 'id'>): Promise<Buffer> => {
    if (closing) return Promise.reject(new SmimeError('smime_pool_closed', 'the S/MIME pool is closed'));
    return new Promise((resolve, reject) => {
      queue.push({ request: { ...request, id: nextId++ }, resolve, reject });
      dispatch();
    });
  };

  return {
    size,
    signMessage: (mime, signer, options) => submit({ operation: 'sign', mime, signer: portable(signer), ...(options && { options }) }),
    encryptMessage: (mime, recipients) => submit({ operation: 'encrypt', mime, recipients: recipients.map(portableRecipient) }),
    signThenEncrypt: (mime, signer, recipients, options) =>
      submit({ operation: 'sign-then-encrypt', mime, signer: portable(signer), recipients: recipients.map(portableRecipient), ...(options && { options }) }),
    close() {
      closing ??= (async () => {
        if (!idle()) await new Promise<void>((resolve) => (drained = resolve));
        await Promise.all(slots.map((s) => s.worker.terminate()));
      })();
      return closing;
    },
  };
}

// Parsed certificates hold class instances that do not survive structured cloning: send their DER.
const der = <T>(c: T) => (typeof c === 'object' && c !== null && 'der' in c ? (c as { der: Buffer }).der : c);
const portable = (s: Signer): Signer => ({ ...s, certificate: der(s.certificate), ...(s.chain && { chain: s.chain.map(der) }) });
const portableRecipient = (r: Recipient): Recipient => ({ ...r, certificate: der(r.certificate) });
