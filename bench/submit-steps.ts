/**
 * `npx tsx bench/submit-steps.ts`: CPU cost of each in-process step of one REST
 * submission of the benchmark's body, measured in isolation (no HTTP, no
 * database): what the server's event loop pays per request before and around
 * its SQL. Complements the CPU profile of `npm run bench:submit -- --profile`.
 * Also times candidate replacements for the costliest steps, for comparison.
 *
 * Options: BENCH_ATTACHMENT_KB (200), BENCH_STEP_ITERATIONS (400).
 */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { drizzle } from 'drizzle-orm/node-postgres';
import fastUri from 'fast-uri';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import sjson from 'secure-json-parse';
import { decodeBase64Strict } from '../src/core/encoding.ts';
import { toMessageView } from '../src/core/message-view.ts';
import { attachmentContext, sealContent } from '../src/core/sealed-content.ts';
import { submissionFingerprint, validateSubmission, type SubmissionInput } from '../src/core/submission.ts';
import * as schema from '../src/db/schema.ts';
import { componentSchemas } from '../src/http/openapi.ts';
import { createContentCipher } from '../src/security/content-cipher.ts';
import { submissionBody } from './lib/payload.ts';

const attachmentBytes = Math.round(Number(process.env.BENCH_ATTACHMENT_KB ?? 200) * 1024);
const iterations = Number(process.env.BENCH_STEP_ITERATIONS ?? 400);

const { json, attachment } = submissionBody(attachmentBytes);
const bodyBytes = Buffer.from(json);
const parsed = JSON.parse(json) as { attachments: Array<{ filename: string; contentType: string; content: string }> } & Record<string, unknown>;
const base64 = parsed.attachments[0]!.content;

// Fastify's validator: its default Ajv options, ajv-formats, the app's component schemas.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
const ajv = new Ajv({
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: false,
  uriResolver: fastUri,
  addUsedSchema: false,
  allErrors: false,
  strict: false,
});
addFormats(ajv);
for (const s of componentSchemas()) ajv.addSchema(s);
const validateBody = ajv.compile({ $ref: 'SubmitMessageRequest#' });
if (!validateBody(JSON.parse(json))) throw new Error(`the benchmark body does not validate: ${JSON.stringify(validateBody.errors)}`);

const cipher = createContentCipher(randomBytes(32));
const limits = { maxMessageBytes: 30 * 1024 * 1024, maxRecipients: 100, maxAttachments: 50 };
const { attachments: _a, ...rest } = parsed;
const input: SubmissionInput = {
  ...rest,
  attachments: [{ filename: 'payslip-2026-11.pdf', contentType: 'application/pdf', content: attachment }],
};
const valid = validateSubmission(input, limits);
const db = drizzle(new pg.Pool({ max: 1 }), { schema }); // never connects: only builds SQL
const sealed = cipher.seal(attachment, attachmentContext(randomUUID()));

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BAD_BASE64_CHAR = /[^A-Za-z0-9+/=]/;
const table = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') table[c.charCodeAt(0)] = 1;

const steps: Array<[string, () => unknown]> = [
  ['HTTP body bytes -> string (utf8)', () => bodyBytes.toString('utf8')],
  ['JSON.parse of the body', () => JSON.parse(json)],
  ['secure-json-parse (Fastify default: JSON.parse + 2 regex scans)', () => sjson.parse(json, { protoAction: 'error', constructorAction: 'error' })],
  ['ajv validation, SubmitMessageRequest (Fastify options)', () => validateBody(JSON.parse(json))],
  ['  (the JSON.parse inside the line above, to subtract)', () => JSON.parse(json)],
  ['decodeBase64Strict (src/core/encoding.ts), total', () => decodeBase64Strict(base64, 'content')],
  ['  3 x includes() for CR, LF, space', () => base64.includes('\n') || base64.includes('\r') || base64.includes(' ')],
  ['  regex /^[A-Za-z0-9+/]*={0,2}$/.test', () => STRICT_BASE64.test(base64)],
  ["  Buffer.from(text, 'base64')", () => Buffer.from(base64, 'base64')],
  ['  alt: regex /[^A-Za-z0-9+/=]/.test (search for a bad char)', () => BAD_BASE64_CHAR.test(base64)],
  ['  alt: charCodeAt loop over a lookup table', () => {
    for (let i = 0; i < base64.length - 2; i++) {
      const c = base64.charCodeAt(i);
      if (c > 127 || table[c] === 0) return false;
    }
    return true;
  }],
  ["  alt: decode, re-encode, compare (round trip)", () => {
    const bytes = Buffer.from(base64, 'base64');
    return bytes.toString('base64') === base64;
  }],
  ['validateSubmission (src/core/submission.ts, incl. sha256 + magic bytes)', () => validateSubmission(input, limits)],
  ['  sha256 of the attachment', () => createHash('sha256').update(attachment).digest()],
  ['submissionFingerprint', () => submissionFingerprint(valid)],
  ['cipher.seal of the attachment (AES-256-GCM + Buffer.concat)', () => cipher.seal(attachment, attachmentContext('x'))],
  ['sealContent (message JSON)', () => sealContent(cipher, 'x', { subject: valid.subject, text: valid.text ?? '', attachments: [] })],
  ['drizzle: build INSERT attachments (toSQL)', () =>
    db.insert(schema.attachments).values({ id: randomUUID(), messageId: randomUUID(), position: 0, sizeBytes: attachment.length, sha256: valid.attachments[0]!.sha256, content: sealed }).toSQL()],
  ['drizzle: build INSERT messages (toSQL)', () =>
    db.insert(schema.messages).values({
      id: randomUUID(), tenantId: randomUUID(), status: 'accepted', mode: 'confidential', fromAddress: 'a@example.com', language: 'en',
      reference: null, content: sealed.subarray(0, 200), sizeBytes: 1, submittedBy: 'sp_x', idempotencyKey: null, requestHash: null,
      createdAt: new Date(), updatedAt: new Date(),
    }).toSQL()],
  ['pg-protocol: serialise Bind with the sealed attachment', () => serialize.bind({ values: [sealed] })],
  ['toMessageView + JSON.stringify (response body)', () => JSON.stringify(toMessageView(
    { id: randomUUID(), tenantId: 't', status: 'accepted', mode: 'confidential', fromAddress: 'a@example.com', language: 'en', reference: 'r', content: sealed,
      sizeBytes: 1, submittedBy: 'k', idempotencyKey: null, requestHash: null, createdAt: new Date(), updatedAt: new Date(), contentDeletedAt: null },
    [])) ],
];

function time(run: () => unknown): { meanUs: number; medianUs: number } {
  for (let i = 0; i < Math.min(50, iterations); i++) run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    run();
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { meanUs: samples.reduce((a, b) => a + b, 0) / samples.length, medianUs: samples[Math.floor(samples.length / 2)]! };
}

console.log(`body ${json.length} bytes, attachment ${attachmentBytes} bytes, base64 ${base64.length} chars, ${iterations} iterations each\n`);
console.log(`${'median µs'.padStart(10)}  ${'mean µs'.padStart(9)}  step`);
const results: Record<string, { meanUs: number; medianUs: number }> = {};
for (const [name, run] of steps) {
  const r = time(run);
  results[name] = r;
  console.log(`${r.medianUs.toFixed(1).padStart(10)}  ${r.meanUs.toFixed(1).padStart(9)}  ${name}`);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
process.exit(0);
