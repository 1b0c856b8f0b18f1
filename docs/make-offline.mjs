// make-offline.mjs makes the page `redocly build-docs --inlineBundle` wrote load nothing
// from the network, and fails when it still would.
//
//   node docs/make-offline.mjs docs/index.html
//
// --inlineBundle already embeds Redoc's scripts and styles, but the "API docs by Redocly"
// attribution in the sidebar is an <img> whose src points at cdn.redoc.ly: offline it
// logs a console error. This replaces those image URLs with an inline SVG (the
// attribution and its link stay), then scans the page for anything that would still be
// fetched (remote <script>/<link>/<img> sources, CSS url() and @import, known CDN hosts)
// and exits 1 naming each one. The browser test (docs/browser.test.mjs) checks the same
// at run time, with the network switched off.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node docs/make-offline.mjs <built page.html>');
  process.exit(2);
}

const svg = (width, text) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="16" viewBox="0 0 ${width} 16">` +
  `<text x="0" y="12.5" font-family="sans-serif" font-size="12" font-weight="600" fill="#0044d4">${text}</text></svg>`;
const dataURI = (s) => 'data:image/svg+xml;base64,' + Buffer.from(s).toString('base64');

// Remote images the Redoc bundle loads at run time, and their local stand-ins.
const replacements = new Map([
  ['https://cdn.redoc.ly/redoc/logo-mini-full.svg', dataURI(svg(52, 'Redocly'))],
  ['https://cdn.redoc.ly/redoc/logo-mini.svg', dataURI(svg(10, 'R'))],
]);

let html = readFileSync(file, 'utf8');
for (const [remote, local] of replacements) {
  html = html.split(remote).join(local);
}

// Anything below would make the browser fetch from the network when the page opens.
// Plain links (<a href>) and URL strings in the spec or in Redoc's messages are fine:
// nothing loads them until a reader clicks.
const remote = String.raw`(?:https?:)?//[^"'\s)>]+`;
const checks = [
  ['remote <script src>', new RegExp(String.raw`<script\b[^>]*\bsrc\s*=\s*["']?(${remote})`, 'gi')],
  ['remote <link href>', new RegExp(String.raw`<link\b[^>]*\bhref\s*=\s*["']?(${remote})`, 'gi')],
  ['remote <img>/<iframe>/<source> src', new RegExp(String.raw`<(?:img|iframe|source|embed)\b[^>]*\bsrc\s*=\s*["']?(${remote})`, 'gi')],
  ['remote CSS url()', new RegExp(String.raw`url\(\s*["']?(${remote})`, 'gi')],
  ['remote CSS @import', new RegExp(String.raw`@import\s+["'](${remote})`, 'gi')],
  ['CDN host', /((?:https?:)?\/\/(?:cdn\.redoc\.ly|cdn\.redocly\.com|fonts\.googleapis\.com|fonts\.gstatic\.com|unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com)[^"'\s)`]*)/gi],
];
// URL strings in the bundle that are known not to load: the base URLs of Redocly's icon
// sets, used only when redocly.yaml configures icons (it does not). The browser test
// proves nothing is fetched.
const inert = ['https://cdn.redocly.com/icons/fa/', 'https://cdn.redocly.com/icons/code/'];
const found = [];
for (const [what, re] of checks) {
  for (const m of html.matchAll(re)) {
    if (!inert.some((prefix) => m[1].startsWith(prefix))) found.push(`${what}: ${m[1]}`);
  }
}
if (found.length > 0) {
  console.error(`${file} would load from the network when opened:`);
  for (const f of [...new Set(found)]) console.error('  ' + f);
  console.error('add a local replacement in docs/make-offline.mjs or a Redoc option that drops it');
  process.exit(1);
}

writeFileSync(file, html);
console.log(`${file}: self-contained (${(html.length / 1024).toFixed(0)} KiB, no remote scripts, styles, fonts or images)`);
