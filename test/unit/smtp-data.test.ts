import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
// nodemailer's own encoder, the reference: not in its package exports, so reached by path.
import DataStream from '../../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js';
import { encodeData } from '../../src/transport/smtp-data.ts';

/** What nodemailer's DataStream writes after DATA for `message`, written the way SMTPConnection#send writes it (one write, end). */
function viaDataStream(message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = new DataStream();
    const out: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(out)));
    stream.on('error', reject);
    stream.write(message);
    stream.end();
  });
}

const encoded = (message: Buffer) => Buffer.concat(encodeData(message));
const base64Lines = (bytes: number) => randomBytes(bytes).toString('base64').replace(/.{1,76}/g, '$&\r\n');

const crlfCases: Record<string, string> = {
  'plain lines': 'Subject: x\r\n\r\nhello\r\nworld\r\n',
  'a line starting with "."': 'Subject: x\r\n\r\n.hidden\r\nnext\r\n',
  'a line starting with ".."': 'Subject: x\r\n\r\n..two\r\n',
  'a lone "." line (the end-of-data line itself)': 'Subject: x\r\n\r\nbefore\r\n.\r\nafter\r\n',
  'the message starting with "."': '.starts\r\nwith a dot\r\n',
  'the message being "."': '.',
  '"." as the last line without CRLF': 'Subject: x\r\n\r\nbody\r\n.',
  'no CRLF at the end': 'Subject: x\r\n\r\nno line break at the end',
  'a dot inside a line (left alone)': 'Subject: x\r\n\r\na.b\r\n x.\r\n',
  'empty lines and dots in a row': '\r\n.\r\n\r\n..\r\n...\r\n',
  'headers only': 'Subject: x\r\n\r\n',
  'a single CRLF': '\r\n',
  empty: '',
};

describe('encodeData (what follows DATA)', () => {
  for (const [name, text] of Object.entries(crlfCases)) {
    it(`is byte-identical to nodemailer's DataStream: ${name}`, async () => {
      const message = Buffer.from(text, 'latin1');
      expect(encoded(message).toString('latin1')).toBe((await viaDataStream(message)).toString('latin1'));
    });
  }

  it('doubles a leading "." and ends with ".\\r\\n" (RFC 5321 §4.5.2), without touching anything else', () => {
    expect(encoded(Buffer.from('.a\r\n..b\r\n.\r\nc.d\r\n')).toString()).toBe('..a\r\n...b\r\n..\r\nc.d\r\n.\r\n');
    expect(encoded(Buffer.from('last line')).toString()).toBe('last line\r\n.\r\n');
    expect(encoded(Buffer.alloc(0)).toString()).toBe('\r\n.\r\n');
  });

  it('hands over a message that needs no change as it is, plus the end line (no copy)', () => {
    const message = Buffer.from(`Content-Transfer-Encoding: base64\r\n\r\n${base64Lines(3000)}`);
    const parts = encodeData(message);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(message);
    expect(parts[1]!.toString()).toBe('.\r\n');
  });

  it('is byte-identical to DataStream on large messages (> 1 MB) with and without dot lines', async () => {
    const clean = Buffer.from(`Subject: big\r\n\r\n${base64Lines(900_000)}`);
    const dotted = Buffer.from(`Subject: big\r\n\r\n${base64Lines(400_000)}.\r\n..x\r\n${base64Lines(400_000)}.end`);
    for (const message of [clean, dotted]) {
      expect(message.length).toBeGreaterThan(1024 * 1024);
      expect(encoded(message).equals(await viaDataStream(message))).toBe(true);
    }
  });

  it('turns bare LF and bare CR into CRLF exactly as DataStream does, and doubles a "." after either', async () => {
    const cases = ['a\nb\n', '.\n.\n', 'a\rb\r', 'a\r.b', '\r.\r', 'x\n.\r\n', '\r\r\n', '\n\r', 'end\r', 'end\n', '\n', '\r'];
    for (const text of cases) {
      const message = Buffer.from(text, 'latin1');
      expect(JSON.stringify(encoded(message).toString('latin1')), JSON.stringify(text)).toBe(JSON.stringify((await viaDataStream(message)).toString('latin1')));
    }
    expect(encoded(Buffer.from('a\nb')).toString()).toBe('a\r\nb\r\n.\r\n');
    expect(encoded(Buffer.from('a\r.\r')).toString()).toBe('a\r\n..\r\n.\r\n');
  });

  it('agrees with DataStream on every message of up to 6 bytes made of CR, LF, "." and "a"', async () => {
    const alphabet = ['\r', '\n', '.', 'a'];
    let messages = [''];
    let all = [''];
    for (let length = 1; length <= 6; length++) {
      messages = messages.flatMap((m) => alphabet.map((c) => m + c));
      all = all.concat(messages);
    }
    expect(all).toHaveLength(5461);
    const differing: string[] = [];
    for (const text of all) {
      const message = Buffer.from(text, 'latin1');
      if (!encoded(message).equals(await viaDataStream(message))) differing.push(JSON.stringify(text));
    }
    expect(differing).toEqual([]);
  });
});
