import { Transform, type TransformCallback } from 'node:stream';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { encodeData } from './smtp-data.ts';

/**
 * The one place that reaches into nodemailer's internals (issue 6).
 *
 * nodemailer's SMTPConnection#send (smtp-connection/index.js) runs the envelope,
 * then calls `this._createSendStream(callback)`, which queues the handler for
 * the reply to the data, pipes a fresh DataStream (a stream.Transform) into the
 * socket and returns it; send then writes the message into it (`write`, `end`).
 * DataStream dot-stuffs with a JavaScript loop over every byte and pushes the
 * end-of-data line as a second write.
 *
 * We wrap `_createSendStream` on our own connection only and swap that one
 * stream's `_transform`/`_flush` (the public stream.Transform contract) for
 * `encodeData`: the message is collected, encoded with native searches, and
 * pushed when the stream ends as the message itself plus the end line (two
 * socket writes, no copy) or, when dots or line breaks had to change, as one new
 * buffer. Everything else stays nodemailer's: reply handling, timeouts, errors,
 * `close()` unpiping.
 *
 * If a nodemailer upgrade renames `_createSendStream` or stops returning a
 * Transform, the hook does nothing and nodemailer's DataStream encodes the
 * message itself: the same bytes, only slower, and `uses` stays 0 (the session
 * logs that once). test/integration/smtp-data.test.ts fails in both cases.
 */
interface SendStreamInternals {
  _createSendStream?: (this: SMTPConnection, callback: (...args: unknown[]) => void) => unknown;
}

interface CountedStream extends Transform {
  inByteCount?: number;
  outByteCount?: number;
}

export interface DataHook {
  /** Messages encoded by `encodeData` on this connection so far. */
  readonly uses: number;
}

export function encodeDataOurselves(connection: SMTPConnection): DataHook {
  const hook = { uses: 0 };
  const internals = connection as SendStreamInternals;
  const original = internals._createSendStream;
  if (typeof original !== 'function') return hook;
  internals._createSendStream = function (this: SMTPConnection, callback) {
    const stream = original.call(this, callback);
    if (stream instanceof Transform) {
      replaceEncoding(stream as CountedStream);
      hook.uses += 1;
    }
    return stream;
  };
  return hook;
}

function replaceEncoding(stream: CountedStream): void {
  const chunks: Buffer[] = [];
  stream._transform = (chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback) => {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    done();
  };
  stream._flush = (done: TransformCallback) => {
    const message = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks.length = 0;
    const data = encodeData(message);
    // nodemailer reports outByteCount as the send result's messageSize.
    stream.inByteCount = message.length;
    stream.outByteCount = data.reduce((sum, part) => sum + part.length, 0);
    for (const part of data) stream.push(part);
    done();
  };
}
