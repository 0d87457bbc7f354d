import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { ZipSignature } from './zip-format.ts';

/**
 * A minimal ZIP (APPNOTE 6.3) writer for archives built one entry at a time
 * and appended to a file: each entry is complete in memory (name, CRC and sizes
 * known before its local header is written, so no data descriptors), and the
 * central directory is written once at the end. Zip64 end records are added
 * when an archive has 65535 entries or more or grows past 4 GiB.
 */
export interface ZipEntryRecord {
  name: string;
  method: 0 | 8;
  crc: number;
  compressedSize: number;
  size: number;
  /** Byte offset of the entry's local header in the archive. */
  offset: number;
  dosTime: number;
  dosDate: number;
}

/** UTF-8 names (general purpose bit 11). */
const FLAGS = 0x0800;
const LOCAL_HEADER_BYTES = 30;
const U16 = 0xffff;
const U32 = 0xffffffff;

/** One entry's bytes (local header and data) and the record the central directory needs; deflated unless that does not pay. */
export function zipEntry(name: string, data: Buffer, modified: Date, offset: number): { bytes: Buffer; record: ZipEntryRecord } {
  const deflated = deflateRawSync(data, { level: 6 });
  const method = deflated.length < data.length ? 8 : 0;
  const body = method === 8 ? deflated : data;
  const nameBytes = Buffer.from(name, 'utf8');
  const { dosTime, dosDate } = dosDateTime(modified);
  const record: ZipEntryRecord = { name, method, crc: crc32(data), compressedSize: body.length, size: data.length, offset, dosTime, dosDate };
  const header = Buffer.alloc(LOCAL_HEADER_BYTES);
  header.writeUInt32LE(ZipSignature.localHeader, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(FLAGS, 6);
  header.writeUInt16LE(method, 8);
  header.writeUInt16LE(dosTime, 10);
  header.writeUInt16LE(dosDate, 12);
  header.writeUInt32LE(record.crc, 14);
  header.writeUInt32LE(body.length, 18);
  header.writeUInt32LE(data.length, 22);
  header.writeUInt16LE(nameBytes.length, 26);
  header.writeUInt16LE(0, 28);
  return { bytes: Buffer.concat([header, nameBytes, body]), record };
}

/** The central directory and end records for entries written from offset 0 up to `directoryOffset`. */
export function zipDirectory(entries: readonly ZipEntryRecord[], directoryOffset: number): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const far = e.offset >= U32;
    const extra = far ? Buffer.alloc(12) : Buffer.alloc(0);
    if (far) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(8, 2);
      extra.writeBigUInt64LE(BigInt(e.offset), 4);
    }
    const h = Buffer.alloc(46);
    h.writeUInt32LE(ZipSignature.centralHeader, 0);
    h.writeUInt16LE(far ? 45 : 20, 4);
    h.writeUInt16LE(far ? 45 : 20, 6);
    h.writeUInt16LE(FLAGS, 8);
    h.writeUInt16LE(e.method, 10);
    h.writeUInt16LE(e.dosTime, 12);
    h.writeUInt16LE(e.dosDate, 14);
    h.writeUInt32LE(e.crc, 16);
    h.writeUInt32LE(e.compressedSize, 20);
    h.writeUInt32LE(e.size, 24);
    h.writeUInt16LE(name.length, 28);
    h.writeUInt16LE(extra.length, 30);
    // comment length, disk number, internal and external attributes: 0
    h.writeUInt32LE(far ? U32 : e.offset, 42);
    parts.push(h, name, extra);
  }
  const directory = Buffer.concat(parts);
  const count = entries.length;
  const zip64 = count >= U16 || directoryOffset >= U32 || directory.length >= U32;
  const tail: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(ZipSignature.zip64EndOfCentralDirectory, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(directory.length), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(ZipSignature.zip64Locator, 0);
    locator.writeBigUInt64LE(BigInt(directoryOffset + directory.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(ZipSignature.endOfCentralDirectory, 0);
  end.writeUInt16LE(Math.min(count, U16), 8);
  end.writeUInt16LE(Math.min(count, U16), 10);
  end.writeUInt32LE(Math.min(directory.length, U32), 12);
  end.writeUInt32LE(zip64 ? U32 : directoryOffset, 16);
  return Buffer.concat([directory, ...tail, end]);
}

/**
 * Reads back the entries this writer appended (to resume an interrupted archive):
 * every complete entry from offset 0, with its uncompressed data. Stops at the first
 * entry that is cut off or not a local header, and says where that is.
 */
export function readWrittenEntries(bytes: Buffer): { entries: Array<{ record: ZipEntryRecord; data: Buffer }>; end: number } {
  const entries: Array<{ record: ZipEntryRecord; data: Buffer }> = [];
  let at = 0;
  while (at + LOCAL_HEADER_BYTES <= bytes.length && bytes.readUInt32LE(at) === ZipSignature.localHeader) {
    const method = bytes.readUInt16LE(at + 8);
    const compressedSize = bytes.readUInt32LE(at + 18);
    const nameLength = bytes.readUInt16LE(at + 26);
    const extraLength = bytes.readUInt16LE(at + 28);
    const dataAt = at + LOCAL_HEADER_BYTES + nameLength + extraLength;
    if ((method !== 0 && method !== 8) || dataAt + compressedSize > bytes.length) break;
    const body = bytes.subarray(dataAt, dataAt + compressedSize);
    let data: Buffer;
    try {
      data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    } catch {
      break;
    }
    const record: ZipEntryRecord = {
      name: bytes.subarray(at + LOCAL_HEADER_BYTES, at + LOCAL_HEADER_BYTES + nameLength).toString('utf8'),
      method,
      crc: bytes.readUInt32LE(at + 14),
      compressedSize,
      size: bytes.readUInt32LE(at + 22),
      offset: at,
      dosTime: bytes.readUInt16LE(at + 10),
      dosDate: bytes.readUInt16LE(at + 12),
    };
    if (crc32(data) !== record.crc || data.length !== record.size) break;
    entries.push({ record, data });
    at = dataAt + compressedSize;
  }
  return { entries, end: at };
}

/** MS-DOS date and time (2-second resolution, from 1980), taken in UTC so an archive does not depend on the machine's zone. */
function dosDateTime(date: Date): { dosTime: number; dosDate: number } {
  const d = date.getUTCFullYear() < 1980 ? new Date(Date.UTC(1980, 0, 1)) : date;
  return {
    dosTime: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    dosDate: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
