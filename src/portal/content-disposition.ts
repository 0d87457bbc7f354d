/**
 * `attachment` with the file's name: an ASCII fallback (quotes, backslashes and
 * controls replaced) and the exact name as RFC 5987 UTF-8. Always `attachment`,
 * so a browser saves the file instead of showing it as a page of this origin.
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_') || 'download';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
