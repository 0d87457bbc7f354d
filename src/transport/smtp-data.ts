/**
 * The bytes that follow DATA (RFC 5321 §4.5.2, §4.1.1.4): the message with every
 * line break as CRLF, a "." at the start of a line doubled, and the end-of-data
 * line ".\r\n" (after a CRLF added when the message does not end with one).
 * Returned as the buffers to write in order: the message itself and the end line
 * when nothing in it changes (no copy: a 400 KB copy per message costs more main
 * thread, in allocation and GC, than a second socket write), otherwise one new
 * buffer holding it all.
 *
 * Byte for byte what nodemailer's DataStream (smtp-connection/data-stream.js)
 * sends for the same message, including its handling of bad line breaks: a bare
 * LF becomes CRLF, a bare CR becomes CRLF, and a "." after a bare CR is doubled
 * too (a receiver that takes a lone CR for a line end would otherwise read
 * "\r.\r" as the end of the data: SMTP smuggling). DataStream finds these with a
 * JavaScript loop over every byte; here native Buffer.indexOf searches find the
 * line breaks and the result is copied once into one buffer.
 */
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const INSERT_DOT = Buffer.from('.');
const INSERT_CR = Buffer.from('\r');
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const END_AFTER_LF = Buffer.from('.\r\n');
const END_AFTER_CR = Buffer.from('\n.\r\n');
const END_OTHERWISE = Buffer.from('\r\n.\r\n');

export function encodeData(message: Buffer): Buffer[] {
  const length = message.length;
  // Insertions in message order: inserts[i] goes before message[offsets[i]].
  const offsets: number[] = [];
  const inserts: Buffer[] = [];
  let added = 0;
  const insert = (offset: number, bytes: Buffer) => {
    offsets.push(offset);
    inserts.push(bytes);
    added += bytes.length;
  };

  if (message[0] === DOT) insert(0, INSERT_DOT);
  // Two cursors, the next CR and the next LF; one native search per line break of each kind.
  let cr = message.indexOf(CR);
  let lf = message.indexOf(LF);
  while (cr !== -1 || lf !== -1) {
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      const next = cr + 1;
      if (message[next] === LF) {
        if (message[next + 1] === DOT) insert(next + 1, INSERT_DOT);
        lf = message.indexOf(LF, next + 1);
      } else if (next < length) {
        insert(next, message[next] === DOT ? INSERT_LF_DOT : INSERT_LF);
      }
      cr = message.indexOf(CR, next);
    } else {
      insert(lf, INSERT_CR);
      if (message[lf + 1] === DOT) insert(lf + 1, INSERT_DOT);
      lf = message.indexOf(LF, lf + 1);
    }
  }

  const last = message[length - 1];
  const end = last === LF ? END_AFTER_LF : last === CR ? END_AFTER_CR : END_OTHERWISE;
  if (offsets.length === 0) return [message, end];
  const out = Buffer.allocUnsafe(length + added + end.length);
  let at = 0;
  let from = 0;
  for (let i = 0; i < offsets.length; i++) {
    at += message.copy(out, at, from, offsets[i]);
    at += inserts[i]!.copy(out, at);
    from = offsets[i]!;
  }
  at += message.copy(out, at, from);
  end.copy(out, at);
  return [out];
}
