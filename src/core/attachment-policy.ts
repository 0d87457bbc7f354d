import { AppError } from './errors.ts';
import { looksLikeZip, readZipEntries } from './zip-entries.ts';

/**
 * Executable content is refused, by name and by what the bytes are, so renaming
 * `setup.exe` to `payslip.pdf` does not get it through. ZIP archives (and what
 * is built on ZIP: .docx, .xlsx, .odt …) are listed without unpacking them: a
 * member that is executable by name or by its first bytes, or that is itself an
 * archive (which we do not open), refuses the attachment, as does a ZIP whose
 * members cannot be listed. Other archive formats (RAR, 7z, tar, gzip) are not
 * opened; scanning those belongs to a content filter (docs/reliability.md).
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

/** Archives inside a ZIP are refused: we list one level only. */
const archiveExtensions = new Set(['zip', 'zipx', '7z', 'rar', 'cab', 'tar', 'gz', 'tgz', 'bz2', 'tbz2', 'xz', 'txz', 'zst', 'lz', 'lzma', 'lzh', 'lha', 'arj', 'ace', 'z', 'cpio', 'rpm', 'deb', 'war', 'ear']);

/** The extension Windows would act on: trailing dots and spaces dropped, as it drops them when saving ("setup.exe. ."). */
function extensionOf(filename: string): string {
  const name = filename.replace(/[. ]+$/, '');
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  return base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
}

/** Throws `attachment_blocked` naming why; returns nothing when the attachment may pass. */
export function checkAttachmentAllowed(filename: string, contentType: string, content: Buffer, field: string): void {
  const extension = extensionOf(filename);
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
  if (looksLikeZip(content)) checkArchiveMembers(content, field);
}

function checkArchiveMembers(zip: Buffer, field: string): void {
  const entries = readZipEntries(zip);
  if (!entries) {
    throw new AppError('attachment_blocked', `${field}: a ZIP archive whose members cannot be listed is not allowed`, { field, reason: 'archive_unreadable' });
  }
  for (const entry of entries) {
    for (const name of entry.names) {
      const extension = extensionOf(name);
      if (blockedExtensions.has(extension)) {
        throw new AppError('attachment_blocked', `${field}: the archive holds an executable file ("${name.slice(0, 100)}")`, {
          field,
          reason: 'archive_member',
          member: name.slice(0, 100),
        });
      }
      if (archiveExtensions.has(extension)) {
        throw new AppError('attachment_blocked', `${field}: the archive holds another archive ("${name.slice(0, 100)}"), which is not opened`, {
          field,
          reason: 'archive_nested',
          member: name.slice(0, 100),
        });
      }
    }
    const head = entry.head;
    const signature = head && signatures.find((s) => s.matches(head));
    if (signature) {
      throw new AppError('attachment_blocked', `${field}: the archive member "${entry.names[0]!.slice(0, 100)}" is a ${signature.name}`, {
        field,
        reason: 'archive_member',
        member: entry.names[0]!.slice(0, 100),
      });
    }
  }
}
