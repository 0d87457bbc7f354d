import { parentPort } from 'node:worker_threads';
import { SmimeError } from './errors.ts';
import { encryptMessage } from './encrypt-message.ts';
import { signMessage } from './sign-message.ts';
import { signThenEncrypt } from './sign-then-encrypt.ts';
import type { PoolRequest, PoolResponse } from './pool-protocol.ts';

/** One pool thread: runs the requested operation and posts the result bytes back, transferring them. */
const port = parentPort;
if (!port) throw new Error('pool-worker.ts runs only as a worker thread');

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

port.on('message', async (request: PoolRequest) => {
  try {
    const mime = asBuffer(request.mime);
    const result =
      request.operation === 'sign'
        ? await signMessage(mime, request.signer!, request.options)
        : request.operation === 'encrypt'
          ? await encryptMessage(mime, request.recipients!)
          : await signThenEncrypt(mime, request.signer!, request.recipients!, request.options);
    const whole = result.byteOffset === 0 && result.byteLength === result.buffer.byteLength;
    const response: PoolResponse = { id: request.id, result };
    port.postMessage(response, whole ? [result.buffer as ArrayBuffer] : []);
  } catch (error) {
    const code = error instanceof SmimeError ? error.code : undefined;
    const response: PoolResponse = { id: request.id, error: { message: (error as Error).message, ...(code && { code }) } };
    port.postMessage(response);
  }
});
