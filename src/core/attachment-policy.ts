import { AppError } from './errors.ts';

/**
 * Executable content is refused, by name and by what the bytes are, so renaming
 * `setup.exe` to `payslip.pdf` does not get it through. Archives are accepted and
 * not opened (docs/api.md says so); scanning inside them belongs to a content filter.
 */
const blockedExtensions = new Set([
  'exe', 'com', 'bat', 'cmd', 'scr', 'pif', 'cpl', 'msi', 'msp', 'mst', 'dll', 'sys', 'drv', 'ocx',
  'js', 'jse', 'vbs', 'vbe', 'wsf', 'wsh', 'wsc', 'hta', 'ps1', 'psm1', 'psd1', 'msc', 'reg', 'inf',
  'lnk', 'scf', 'url', 'jar', 'class', 'app', 'dmg', 'pkg', 'apk', 'appx', 'msix', 'elf', 'sh', 'bash',
  'csh', 'ksh', 'command', 'gadget', 'application', 'iso', 'img', 'vhd', 'vhdx', 'chm', 'xll',
]);

const blockedContentTypes = new Set([
  'application/x-msdownload', 'application/x-msdos-program', 'application/x-dosexec', 'application/x-executable',
  'application/x-ms-installer', 'application/x-msi', 'application/vnd.microsoft.portable-executable',
  'application/java-archive', 'application/x-java-archive', 'application/x-sh', 'application/x-csh',
  'application/javascript', 'text/javascript', 'application/x-javascript', 'application/hta', 'text/vbscript',
  'application/x-elf', 'application/x-mach-binary', 'application/x-apple-diskimage',
]);

interface Signature {
  name: string;
  matches(bytes: Buffer): boolean;
}

const startsWith = (prefix: number[]) => (b: Buffer) => prefix.every((byte, i) => b[i] === byte);

const signatures: Signature[] = [
  { name: 'Windows executable (MZ)', matches: startsWith([0x4d, 0x5a]) },
  { name: 'ELF executable', matches: startsWith([0x7f, 0x45, 0x4c, 0x46]) },
  { name: 'Mach-O executable', matches: (b) => [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(b.length >= 4 ? b.readUInt32BE(0) : 0) },
  { name: 'Java class or Mach-O universal binary', matches: startsWith([0xca, 0xfe, 0xba, 0xbe]) },
  { name: 'script with an interpreter line (#!)', matches: startsWith([0x23, 0x21]) },
];

/** Throws `attachment_blocked` naming why; returns nothing when the attachment may pass. */
export function checkAttachmentAllowed(filename: string, contentType: string, content: Buffer, field: string): void {
  // Windows drops trailing dots and spaces when saving, so "setup.exe. ." lands as setup.exe.
  const name = filename.replace(/[. ]+$/, '');
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (blockedExtensions.has(extension)) {
    throw new AppError('attachment_blocked', `${field}: executable file type ".${extension}" is not allowed`, {
      field,
      reason: 'extension',
    });
  }
  if (blockedContentTypes.has(contentType.toLowerCase())) {
    throw new AppError('attachment_blocked', `${field}: executable content type "${contentType}" is not allowed`, {
      field,
      reason: 'content_type',
    });
  }
  const signature = signatures.find((s) => s.matches(content));
  if (signature) {
    throw new AppError('attachment_blocked', `${field}: content is a ${signature.name}, which is not allowed`, {
      field,
      reason: 'content',
    });
  }
}
