import { constants, inflateRawSync } from 'node:zlib';
import { ZipSignature } from './zip-format.ts';

/** What the attachment policy needs to know about one member of a ZIP archive. */
export interface ZipEntry {
  /** Names as the central directory and the entry's local header give them (they may differ in a crafted file). */
  names: string[];
  /** The first bytes of its content, when they can be had cheaply (not encrypted, stored or deflated). */
  head: Buffer | undefined;
}

const HEAD_BYTES = 16;
/** Compressed bytes inflated to see an entry's first bytes: enough for any deflate block header, at most ~1 MB out. */
const INFLATE_INPUT = 1024;
const MAX_SNIFFED = 2000;

/** True when the bytes start like a ZIP archive (also .docx, .xlsx, .odt, .jar …). */
export const looksLikeZip = (b: Buffer) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);

/**
 * The members of a ZIP archive, read from its central directory (the way
 * extractors list them) without decompressing anything but the first kilobyte of
 * each member. Undefined when no consistent central directory is found (not a
 * ZIP, or one no extractor could list either).
 */
export function readZipEntries(zip: Buffer): ZipEntry[] | undefined {
  const directory = findCentralDirectory(zip);
  if (!directory) return undefined;
  const entries: ZipEntry[] = [];
  let at = directory.offset;
  for (let i = 0; i < directory.count; i += 1) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== ZipSignature.centralHeader) return undefined;
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (next > zip.length) return undefined;
    const names = [decodeName(zip.subarray(at + 46, at + 46 + nameLength), flags)];
    const local = zip.readUInt32LE(at + 42);
    let head: Buffer | undefined;
    if (local + 30 <= zip.length && zip.readUInt32LE(local) === ZipSignature.localHeader) {
      const localNameLength = zip.readUInt16LE(local + 26);
      const dataStart = local + 30 + localNameLength + zip.readUInt16LE(local + 28);
      names.push(decodeName(zip.subarray(local + 30, Math.min(zip.length, local + 30 + localNameLength)), flags));
      if (i < MAX_SNIFFED && (flags & 1) === 0 && dataStart < zip.length) {
        head = headOf(zip.subarray(dataStart, Math.min(zip.length, dataStart + (compressedSize || INFLATE_INPUT))), method);
      }
    }
    entries.push({ names, head });
    at = next;
  }
  return entries;
}

function findCentralDirectory(zip: Buffer): { offset: number; count: number } | undefined {
  // The end record is in the last 22 + 65,535 (comment) bytes; search backwards for its signature.
  const floor = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= floor; at -= 1) {
    if (zip.readUInt32LE(at) !== ZipSignature.endOfCentralDirectory) continue;
    let count = zip.readUInt16LE(at + 10);
    let offset = zip.readUInt32LE(at + 16);
    if ((count === 0xffff || offset === 0xffffffff) && at >= 20 && zip.readUInt32LE(at - 20) === ZipSignature.zip64Locator) {
      const record = Number(zip.readBigUInt64LE(at - 20 + 8));
      if (record + 56 > zip.length || zip.readUInt32LE(record) !== ZipSignature.zip64EndOfCentralDirectory) continue;
      count = Number(zip.readBigUInt64LE(record + 32));
      offset = Number(zip.readBigUInt64LE(record + 48));
    }
    if (offset + 46 * count <= at || (count === 0 && offset <= at)) return { offset, count };
  }
  return undefined;
}

function headOf(data: Buffer, method: number): Buffer | undefined {
  if (method === 0) return data.subarray(0, HEAD_BYTES);
  if (method !== 8) return undefined;
  try {
    return inflateRawSync(data.subarray(0, INFLATE_INPUT), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, HEAD_BYTES);
  } catch {
    return undefined; // a broken stream: nothing an extractor could run either
  }
}

/** UTF-8 when the archive says so (flag bit 11), else CP437, of which the ASCII range (all an extension needs) is ASCII. */
const decodeName = (bytes: Buffer, flags: number) => bytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
