import { describe, expect, it } from 'vitest';
import { checkAttachmentAllowed } from '../../src/core/attachment-policy.ts';
import { zipOf } from '../hostile/zip.ts';

const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\nbody\n%%EOF\n', 'latin1');
const bytes = (...prefix: number[]) => Buffer.concat([Buffer.from(prefix), Buffer.alloc(64, 0x41)]);

/** The archive with its first local header naming another file than its central directory says (same length). */
function localNameRewritten(zip: Buffer, name: string): Buffer {
  const copy = Buffer.from(zip);
  copy.write(name, 30, 'latin1');
  return copy;
}

function refusal(filename: string, contentType: string, content: Buffer): unknown {
  try {
    checkAttachmentAllowed(filename, contentType, content, 'attachments[0]');
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('checkAttachmentAllowed', () => {
  it.each([
    ['an executable member', zipOf([{ name: 'docs/setup.exe', content: pdf }]), 'archive_member'],
    ['a member whose local header name differs (central: a.txt, local: a.exe)', localNameRewritten(zipOf([{ name: 'a.txt', content: pdf }]), 'a.exe'), 'archive_member'],
    ['a Windows PE member under a text name (deflated)', zipOf([{ name: 'readme.txt', content: bytes(0x4d, 0x5a, 0x90, 0x00) }]), 'archive_member'],
    ['a Windows PE member under a text name (stored)', zipOf([{ name: 'readme.txt', content: bytes(0x4d, 0x5a, 0x90, 0x00), stored: true }]), 'archive_member'],
    ['a nested archive', zipOf([{ name: 'inner.7z', content: pdf }]), 'archive_nested'],
    ['a ZIP whose members cannot be listed', bytes(0x50, 0x4b, 0x03, 0x04), 'archive_unreadable'],
  ])('blocks a ZIP with %s', (_what, content, reason) => {
    expect(refusal('archive.zip', 'application/zip', content)).toMatchObject({ code: 'attachment_blocked', details: { reason } });
  });

  it.each([
    ['payslip.pdf', 'application/pdf', pdf],
    ['report.final.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', pdf],
    ['archive.zip', 'application/zip', zipOf([{ name: 'statements/2026-11.pdf', content: pdf }, { name: 'readme.txt', content: Buffer.from('hi'), stored: true }])],
    ['empty.zip', 'application/zip', zipOf([])],
    ['README', 'text/plain', Buffer.from('an MZ that is not at the start')],
    ['empty.txt', 'text/plain', Buffer.alloc(0)],
    ['one-byte.bin', 'application/octet-stream', Buffer.from('M')],
    ['exe-notes.txt', 'text/plain', Buffer.from('notes about setup.exe')],
  ])('lets %s (%s) pass', (filename, contentType, content) => {
    expect(refusal(filename, contentType, content)).toBeUndefined();
  });

  it.each([
    'setup.exe', 'SETUP.EXE', 'run.bat', 'run.cmd', 'command.com', 'screen.scr', 'script.js', 'macro.vbs',
    'install.msi', 'app.jar', 'payslip.pdf.exe', 'tool.ps1', 'shortcut.lnk', 'page.hta', 'disk.iso', 'setup.exe.',
    'setup.exe. .',
  ])('blocks %j by extension', (filename) => {
    expect(refusal(filename, 'application/octet-stream', pdf)).toMatchObject({
      code: 'attachment_blocked',
      status: 422,
      details: { field: 'attachments[0]', reason: 'extension' },
    });
  });

  it.each(['application/x-msdownload', 'Application/X-MSDownload', 'application/java-archive', 'text/javascript', 'application/x-sh'])(
    'blocks content type %s under an innocent name',
    (contentType) => {
      expect(refusal('invoice.pdf', contentType, pdf)).toMatchObject({
        code: 'attachment_blocked',
        details: { reason: 'content_type' },
      });
    },
  );

  it.each([
    ['MZ (Windows PE)', bytes(0x4d, 0x5a, 0x90, 0x00)],
    ['ELF', bytes(0x7f, 0x45, 0x4c, 0x46, 0x02)],
    ['Mach-O 32-bit', bytes(0xfe, 0xed, 0xfa, 0xce)],
    ['Mach-O 64-bit', bytes(0xfe, 0xed, 0xfa, 0xcf)],
    ['Mach-O 32-bit, little-endian', bytes(0xce, 0xfa, 0xed, 0xfe)],
    ['Mach-O 64-bit, little-endian', bytes(0xcf, 0xfa, 0xed, 0xfe)],
    ['Mach-O universal / Java class', bytes(0xca, 0xfe, 0xba, 0xbe)],
    ['#! script', Buffer.from('#!/bin/sh\nrm -rf ~\n')],
  ])('blocks %s content under an innocent name and type', (_kind, content) => {
    expect(refusal('invoice.pdf', 'application/pdf', content)).toMatchObject({
      code: 'attachment_blocked',
      details: { field: 'attachments[0]', reason: 'content' },
    });
  });
});
