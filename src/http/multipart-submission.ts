import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { assertKnownFields, type AttachmentInput, type SubmissionInput } from '../core/submission.ts';

const listFields = new Set(['to', 'cc']);
const fileFields = new Set(['attachments', 'attachment']);

/**
 * Reads a multipart/form-data submission into the same shape a JSON body has:
 * text fields by name (`to`/`cc` repeated), file parts as attachments. Parts are
 * consumed one at a time; the plugin's limits bound what is buffered.
 */
export async function readMultipartSubmission(request: FastifyRequest, maxBytes: number): Promise<SubmissionInput> {
  const fields: Record<string, unknown> = {};
  const attachments: AttachmentInput[] = [];
  let total = 0;
  try {
    // preservePath: the core sees the file name as sent and refuses a path, as on the other doors (busboy would cut it to its last segment).
    for await (const part of request.parts({ preservePath: true })) {
      if (part.type === 'file') {
        if (!fileFields.has(part.fieldname)) {
          part.file.resume();
          throw new AppError('unknown_field', `unexpected file field "${part.fieldname}" (use "attachments")`, { field: part.fieldname });
        }
        // Counted while it streams in: a body over the limit is refused when it passes it, not after it has all arrived.
        const chunks: Buffer[] = [];
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          total += chunk.length;
          if (total > maxBytes) throw tooLarge(maxBytes);
          chunks.push(chunk);
        }
        if (part.file.truncated) throw tooLarge(maxBytes);
        attachments.push({ filename: part.filename, contentType: part.mimetype, content: Buffer.concat(chunks) });
        continue;
      }
      const value = typeof part.value === 'string' ? part.value : String(part.value);
      total += value.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      if (listFields.has(part.fieldname)) {
        const list = (fields[part.fieldname] as string[] | undefined) ?? [];
        list.push(...value.split(',').map((v) => v.trim()).filter(Boolean));
        fields[part.fieldname] = list;
      } else if (part.fieldname in fields) {
        throw new AppError('invalid_field', `field "${part.fieldname}" was sent more than once`, { field: part.fieldname });
      } else {
        fields[part.fieldname] = value;
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as { code?: string }).code;
    if (code?.startsWith('FST_')) throw error; // limits: mapped by the error handler
    throw new AppError('malformed_multipart', `the multipart body could not be read: ${(error as Error).message}`, {}, { cause: error });
  }
  assertKnownFields(fields);
  return { ...fields, attachments };
}

const tooLarge = (limit: number) =>
  new AppError('message_too_large', `the message is larger than ${limit} bytes`, { limit });
