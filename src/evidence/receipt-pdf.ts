import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { EvidenceFacts } from './evidence-facts.ts';
import { receiptLanguage, receiptTexts } from './receipt-texts.ts';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;

/**
 * The human-readable receipt of one evidence: its facts in the message's
 * language on A4, and the signed evidence itself attached to the PDF
 * (`evidence-<id>.p7m`, what GET /v1/proofs/{id} serves), so the PDF carries
 * its own proof. The PDF itself is not signed: the attachment is the proof.
 */
export async function renderReceipt(facts: EvidenceFacts, signed: Buffer): Promise<Buffer> {
  const texts = receiptTexts[receiptLanguage(facts.message.language)];
  const doc = await PDFDocument.create();
  const created = new Date(facts.issuedAt);
  doc.setTitle(`${texts.titles[facts.type]} ${facts.evidenceId}`);
  doc.setProducer('Sealpost');
  doc.setCreationDate(created);
  doc.setModificationDate(created);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const mono = await doc.embedFont(StandardFonts.Courier);

  let page = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  const line = (text: string, font: PDFFont, size: number, gap = 4) => {
    for (const piece of wrap(encodable(text, font), font, size, A4[0] - 2 * MARGIN)) {
      if (y < MARGIN + size) [page, y] = [doc.addPage(A4), A4[1] - MARGIN];
      draw(page, piece, font, size, y);
      y -= size + gap;
    }
  };
  const field = (label: string, value: string, font: PDFFont = regular) => {
    line(label, bold, 9, 1);
    line(value, font, 10, 8);
  };

  line(texts.titles[facts.type], bold, 20, 12);
  line(`ETSI EN 319 522: ${facts.type}`, regular, 9, 14);
  const l = texts.labels;
  field(l.evidenceId, facts.evidenceId, mono);
  field(l.event, `${facts.event.type} (#${facts.event.id})`);
  field(l.eventTime, facts.event.time);
  field(l.submitted, facts.submissionTime);
  field(l.sender, facts.sender.name ? `${facts.sender.name} <${facts.sender.address}>` : facts.sender.address);
  for (const r of facts.recipients) field(l.recipient, `${r.name ? `${r.name} <${r.address}>` : r.address}  ${r.internetMessageId}`);
  field(l.message, facts.message.id, mono);
  if (facts.message.reference) field(l.reference, facts.message.reference);
  if (facts.reason) field(l.reason, `${facts.reason.details} (${facts.reason.code})`);
  field(l.content, facts.content.digest, mono);
  for (const p of facts.content.parts) field(`${l.attachment}: ${p.filename} (${p.size} B)`, p.digest, mono);
  field(l.issuer, facts.issuer.name);
  field(l.policy, facts.policyId);
  field(l.chain, `#${facts.chain.sequence} <- ${facts.chain.previousDigest}`, mono);
  y -= 8;
  line(texts.footer, regular, 9);

  await doc.attach(signed, `evidence-${facts.evidenceId}.p7m`, {
    mimeType: 'application/pkcs7-mime',
    description: `${facts.type} ${facts.evidenceId}`,
    creationDate: created,
    modificationDate: created,
  });
  return Buffer.from(await doc.save());
}

function draw(page: PDFPage, text: string, font: PDFFont, size: number, y: number) {
  page.drawText(text, { x: MARGIN, y, size, font, color: rgb(0.1, 0.1, 0.1) });
}

/** The standard fonts speak WinAnsi only: anything else (a Cyrillic name, an emoji) is shown as '?'. */
function encodable(text: string, font: PDFFont): string {
  const supported = new Set(font.getCharacterSet());
  return [...text.replace(/[\r\n\t]+/g, ' ')].map((c) => (supported.has(c.codePointAt(0)!) ? c : '?')).join('');
}

/** Breaks at spaces where it can, anywhere in a long token (digests) where it must. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    const candidate = current ? `${current} ${word}` : word;
    if (font.widthOfTextAtSize(candidate, size) <= width) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    current = word;
    while (font.widthOfTextAtSize(current, size) > width) {
      let cut = current.length - 1;
      while (cut > 1 && font.widthOfTextAtSize(current.slice(0, cut), size) > width) cut--;
      lines.push(current.slice(0, cut));
      current = current.slice(cut);
    }
  }
  if (current || lines.length === 0) lines.push(current);
  return lines;
}
