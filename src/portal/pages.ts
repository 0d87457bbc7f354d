import type { Language } from '../core/states.ts';
import type { SealedContent } from '../core/sealed-content.ts';
import { escapeHtml, htmlToText } from './html.ts';
import { formatDate, texts } from './i18n.ts';

/** The shell of every portal page: landmarks, language, the one stylesheet, no scripts. */
export function layout(language: Language, title: string, main: string): string {
  return `<!DOCTYPE html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Sealpost</title>
<link rel="stylesheet" href="/r/assets/portal.css">
</head>
<body>
<header class="banner" role="banner"><span class="brand">Sealpost</span></header>
<main id="main" tabindex="-1">
${main}
</main>
<footer role="contentinfo"><p>Sealpost</p></footer>
</body>
</html>
`;
}

export function errorPage(language: Language, title: string, text: string): string {
  return layout(language, title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`);
}

/** A message as the recipient reads it: headers, body as text, attachments as download links. */
export function messagePage(language: Language, view: { token: string; from: string; sentAt: Date; content: SealedContent; footer?: string }): string {
  const t = texts[language];
  const { content } = view;
  const body =
    content.text !== undefined
      ? `<pre class="body">${escapeHtml(content.text)}</pre>`
      : content.html !== undefined
        ? `<p class="note">${escapeHtml(t.htmlAsText)}</p>\n<pre class="body">${escapeHtml(htmlToText(content.html))}</pre>`
        : '';
  const files = content.attachments.length
    ? `<ul class="attachments">\n${content.attachments
        .map(
          (a, i) =>
            `<li><a class="download" href="/r/${escapeHtml(view.token)}/attachments/${i}" download>${escapeHtml(a.filename)}</a> <span class="type">(${escapeHtml(a.contentType)})</span></li>`,
        )
        .join('\n')}\n</ul>`
    : `<p>${escapeHtml(t.noAttachments)}</p>`;
  return layout(
    language,
    content.subject || t.portalTitle,
    `<article aria-labelledby="subject">
<h1 id="subject">${escapeHtml(content.subject)}</h1>
<dl class="meta">
<dt>${escapeHtml(t.from)}</dt><dd>${escapeHtml(view.from)}</dd>
<dt>${escapeHtml(t.sent)}</dt><dd>${escapeHtml(formatDate(language, view.sentAt))}</dd>
</dl>
<section aria-label="${escapeHtml(t.subject)}">
${body}
</section>
<section aria-labelledby="attachments-heading">
<h2 id="attachments-heading">${escapeHtml(t.attachments)}</h2>
${files}
</section>
</article>${view.footer ? `\n${view.footer}` : ''}`,
  );
}

export const portalCss = `:root{color-scheme:light}
body{margin:0;font-family:system-ui,Arial,Helvetica,sans-serif;color:#1a1a1a;background:#f5f6f8;line-height:1.5}
.banner{background:#0b57d0;color:#fff;padding:12px 24px}
.brand{font-weight:bold;font-size:20px}
main{max-width:760px;margin:24px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:24px;margin-top:0}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;color:#444}
dl.meta dd{margin:0}
pre.body{white-space:pre-wrap;word-wrap:break-word;font-family:inherit;font-size:16px;border-top:1px solid #ddd;padding-top:16px}
.note{color:#555;font-style:italic}
a{color:#0b57d0}
a:focus,button:focus,input:focus{outline:3px solid #f59e0b;outline-offset:2px}
.attachments a.download{font-weight:bold}
.type{color:#666;font-size:14px}
form{margin:16px 0}
label{display:block;font-weight:bold;margin-top:12px}
input[type=text],input[type=password],input[type=email]{display:block;font-size:16px;padding:8px;width:100%;max-width:360px;box-sizing:border-box}
button{background:#0b57d0;color:#fff;border:2px solid #0b57d0;border-radius:6px;padding:10px 24px;font-size:16px;font-weight:bold;cursor:pointer;margin-top:16px}
button.secondary{background:#fff;color:#0b57d0;border:2px solid #0b57d0}
.error{color:#b00020;font-weight:bold}
.hint{color:#555;font-size:14px;margin:4px 0}
label.inline{display:inline;font-weight:normal}
.check{margin-top:16px}
.terms{border:1px solid #ddd;border-radius:6px;padding:8px 16px;margin-top:16px;background:#fafafa}
.terms h2{font-size:16px;margin:8px 0}
.decision{display:flex;gap:16px;flex-wrap:wrap}
.decision form{margin:0}
footer{text-align:center;color:#777;font-size:13px}
`;
