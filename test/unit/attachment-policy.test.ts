import { describe, expect, it } from 'vitest';
import { checkAttachmentAllowed } from '../../src/core/attachment-policy.ts';

const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\nbody\n%%EOF\n', 'latin1');
const bytes = (...prefix: number[]) => Buffer.concat([Buffer.from(prefix), Buffer.alloc(64, 0x41)]);

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
    ['payslip.pdf', 'application/pdf', pdf],
    ['report.final.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', pdf],
    ['archive.zip', 'application/zip', bytes(0x50, 0x4b, 0x03, 0x04)],
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
