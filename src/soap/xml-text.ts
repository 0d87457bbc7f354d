// Characters XML 1.0 cannot carry at all, even escaped: replaced, so a fault
// that quotes hostile input is still well-formed.
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text safe for XML element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, '\ufffd').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
