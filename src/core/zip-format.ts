/** Record signatures of the ZIP format (APPNOTE 6.3), shared by the reader and the writer. */
export const ZipSignature = Object.freeze({
  localHeader: 0x04034b50,
  centralHeader: 0x02014b50,
  endOfCentralDirectory: 0x06054b50,
  zip64EndOfCentralDirectory: 0x06064b50,
  zip64Locator: 0x07064b50,
} as const);
