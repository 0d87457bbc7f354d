import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

/** What came back for one hostile request, whichever door and however it was sent. */
export interface Outcome {
  /** HTTP status; undefined when the server closed the connection without answering. */
  status: number | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** `code` of a JSON error, or `sp:code` of a SOAP fault. */
  code: string | undefined;
  /** `faultcode` of a SOAP fault. */
  faultcode: string | undefined;
  /** Body bytes the client had written when the answer came (streamed requests). */
  bytesSent?: number;
  /** Milliseconds from connecting to the answer or the close (socket-level requests). */
  elapsedMs?: number;
}

export interface HttpRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Source address on loopback (127.0.0.x): the throttle counts failures per client address. */
  localAddress?: string;
}

const CLIENT_TIMEOUT_MS = 20_000;

/** One request over a fresh loopback connection. */
export function send(port: number, req: HttpRequest): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: req.method ?? 'POST',
        path: req.path,
        headers: req.headers,
        agent: false,
        timeout: CLIENT_TIMEOUT_MS,
        ...(req.localAddress && { localAddress: req.localAddress }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(outcomeOf(res.statusCode, res.headers, Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * Streams `totalBytes` of body (chunked, or with the length declared up front)
 * on a raw connection and stops writing as soon as an answer arrives: how far it
 * got shows whether the server refused early or read everything first. A server
 * that answers and closes while we write is fine (EPIPE/ECONNRESET are expected
 * then); what it answered is what counts.
 */
export function stream(
  port: number,
  req: { path: string; headers: Record<string, string>; totalBytes: number; declareLength: boolean; prefix?: string },
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let sent = 0;
    let atAnswer: number | undefined;
    let finished = false;
    const chunked = !req.declareLength;
    const piece = Buffer.alloc(64 * 1024, 'A');
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(limit);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(received).toString('utf8')), bytesSent: atAnswer ?? sent });
    };
    const limit = setTimeout(finish, CLIENT_TIMEOUT_MS);
    socket.on('data', (c: Buffer) => {
      atAnswer ??= sent;
      received.push(c);
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && Buffer.byteLength(text.slice(split + 4)) >= Number(length)) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => {});
    socket.on('connect', () => {
      const headers = { host: '127.0.0.1', ...req.headers, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(req.totalBytes) }) };
      socket.write(`POST ${req.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      const write = (data: Buffer, done?: () => void) =>
        socket.write(chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data, done);
      if (req.prefix) {
        const prefix = Buffer.from(req.prefix);
        sent += prefix.length;
        write(prefix);
      }
      // One chunk in flight at a time, so the answer is read as soon as it comes:
      // a server that answers and closes makes our next write fail, and node
      // drops what was not read yet when a write fails.
      const pump = () => {
        if (atAnswer !== undefined || socket.destroyed) return;
        if (sent >= req.totalBytes) {
          if (chunked) socket.write('0\r\n\r\n');
          return;
        }
        const data = piece.subarray(0, Math.min(piece.length, req.totalBytes - sent));
        sent += data.length;
        write(data, () => setImmediate(pump));
      };
      // With the length declared, a server can refuse on the headers alone: give it a moment before any body byte.
      if (chunked) pump();
      else setTimeout(pump, DECLARED_LENGTH_GRACE_MS);
    });
  });
}

const DECLARED_LENGTH_GRACE_MS = 1000;

export type RawStep = string | Buffer | { pauseMs: number } | { endWrites: true };

/**
 * Bytes on a raw TCP connection, with pauses between them (slow clients, HTTP
 * the client library would refuse to send). Resolves with what the server
 * answered once it closes the connection, or after `maxMs` (then status is
 * undefined and the connection is cut by us).
 */
export function raw(port: number, steps: RawStep[], options: { maxMs: number; localAddress?: string }): Promise<Outcome & { closedByServer: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port, ...(options.localAddress && { localAddress: options.localAddress }) });
    const received: Buffer[] = [];
    let closedByServer = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(limit);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(received).toString('utf8')), closedByServer, elapsedMs: Date.now() - started });
    };
    const limit = setTimeout(finish, options.maxMs);
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('close', () => {
      closedByServer = !finished;
      finish();
    });
    socket.on('error', () => {});
    socket.on('connect', async () => {
      for (const step of steps) {
        if (finished || socket.destroyed) return;
        if (typeof step === 'string' || Buffer.isBuffer(step)) socket.write(step);
        else if ('pauseMs' in step) await new Promise((r) => setTimeout(r, step.pauseMs));
        else socket.end();
      }
    });
  });
}

/** An HTTP/1.1 response as read off a raw socket (not chunked: our error answers carry a length). */
function parseResponse(text: string): Outcome {
  const head = /^HTTP\/1\.1 (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, Math.max(0, split)).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return outcomeOf(head ? Number(head[1]) : undefined, headers, split >= 0 ? text.slice(split + 4) : '');
}

function outcomeOf(status: number | undefined, headers: Outcome['headers'], body: string): Outcome {
  const type = String(headers['content-type'] ?? '');
  let code: string | undefined;
  let faultcode: string | undefined;
  if (type.startsWith('application/json')) {
    try {
      code = (JSON.parse(body) as { code?: string }).code;
    } catch {
      code = undefined;
    }
  } else if (type.startsWith('text/xml')) {
    code = /<sp:code>([^<]*)<\/sp:code>/.exec(body)?.[1];
    faultcode = /<faultcode>([^<]*)<\/faultcode>/.exec(body)?.[1];
  }
  return { status, headers, body, code, faultcode };
}
