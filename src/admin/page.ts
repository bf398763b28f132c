/**
 * The live status page (`GET /` on the admin listener): one self-contained
 * HTML document. The only style and script are inline (page-style.ts,
 * page-script.ts) and allowed by their sha256 hashes in the page's
 * Content-Security-Policy; nothing else may load, and the script may only
 * talk to this origin (`/api/stream`, `/api/status` and the admin API).
 * The HTML carries no data: the script fills the tables from the
 * snapshots with textContent. Without JavaScript (a terminal browser) the
 * headings and a pointer to `/api/status` remain. Built once, then cached.
 */
import { cspHash } from '../core/csp.js';
import { SCRIPT } from './page-script.js';
import { STYLE } from './page-style.js';

/** The page and the Content-Security-Policy to send with it. */
export interface StatusPage {
  html: string;
  csp: string;
}

/** A table with a heading row, an empty body the script fills, and its empty-state note (its text set by the script, so no browser without it shows a false one). */
function table(id: string, heads: readonly (string | [string, string])[], empty: string): string {
  const ths = heads.map((h) => (typeof h === 'string' ? `<th scope="col">${h}</th>` : `<th scope="col" class="${h[1]}">${h[0]}</th>`)).join('');
  return (
    `<div class="scroll"><table id="${id}"><thead><tr>${ths}</tr></thead><tbody id="${id}-body"></tbody></table></div>\n` +
    `<p id="${id}-empty" class="empty" data-text="${empty}" hidden></p>\n`
  );
}

const SESSION_HEADS: (string | [string, string])[] = [
  ['ID', 'num'],
  'User',
  'Address',
  'Protocol',
  'Directory',
  ['Idle', 'num'],
  'Transfer',
  'Progress',
  ['Rate', 'num'],
  '<span class="sr">Actions</span>',
];
const TRANSFER_HEADS: (string | [string, string])[] = ['Time', 'User', 'Address', 'Protocol', 'Direction', 'Path', ['Bytes', 'num'], ['Seconds', 'num'], 'Result'];

function body(): string {
  return `<header class="top">
<h1>Wharf status</h1>
<p class="state"><span id="conn" class="conn"></span> <span id="updated"></span></p>
</header>
<noscript><p>This page updates itself with JavaScript, which is off here. The same data is at <a href="/api/status">/api/status</a> (JSON).</p></noscript>
<main>
<section id="sessions-section" aria-labelledby="sessions-h">
<h2 id="sessions-h">Sessions <span id="sessions-count" class="count"></span></h2>
${table('sessions', SESSION_HEADS, 'No one is connected.')}<p id="sessions-msg" class="msg" role="status" aria-live="polite"></p>
</section>
<section id="chart-section" aria-labelledby="chart-h">
<h2 id="chart-h">Throughput</h2>
<p class="legend" title="mean of the last 10 s"><span class="key in">in (uploads)<span id="rate-in" class="num"></span></span> <span class="key out">out (downloads)<span id="rate-out" class="num"></span></span></p>
<div id="chart" class="chart"></div>
</section>
<section id="bans-section" aria-labelledby="bans-h">
<h2 id="bans-h">Bans <span id="bans-count" class="count"></span></h2>
${table('bans', ['Address', 'Until', '<span class="sr">Actions</span>'], 'No address is banned.')}<div class="ban-form">
<label for="ban-address">Ban an address</label>
<input id="ban-address" type="text" placeholder="203.0.113.7 or 2001:db8::7" autocomplete="off" autocapitalize="off" spellcheck="false">
<button id="ban-add" type="button" class="danger">Ban</button>
</div>
<p id="bans-msg" class="msg" role="status" aria-live="polite"></p>
</section>
<section id="transfers-section" aria-labelledby="transfers-h">
<h2 id="transfers-h">Recent transfers <span id="transfers-count" class="count"></span></h2>
${table('transfers', TRANSFER_HEADS, 'No transfer has finished yet.')}</section>
</main>`;
}

function build(): StatusPage {
  const html =
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="referrer" content="no-referrer">\n<meta name="robots" content="noindex">\n<link rel="icon" href="data:,">\n' +
    `<title>Wharf status</title>\n<style>${STYLE}</style>\n</head>\n<body>\n${body()}\n<script>${SCRIPT}</script>\n</body>\n</html>\n`;
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(SCRIPT)}`,
    `style-src ${cspHash(STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

let built: StatusPage | null = null;

/** The page and its Content-Security-Policy (the inline style and script allowed by their hashes); built once. */
export function statusPage(): StatusPage {
  built ??= build();
  return built;
}
