/**
 * The directory page, as pure string rendering: head, rows (in chunks, as
 * entries arrive) and tail. Everything from the archive (names, the
 * `.message` text) is HTML-escaped; links are percent-encoded relative
 * URLs that work without JavaScript. The only style and script are inline
 * and allowed by their hashes in the page's Content-Security-Policy, so
 * the page needs nothing from anywhere else. The script only adds sorting
 * by name, size or date (directories stay first) without a reload.
 */
import { cspHash } from '../core/csp.js';
import { encodeName } from './paths.js';

/** One row of a directory page. */
export interface PageEntry {
  name: string;
  type: 'file' | 'dir' | 'link';
  size: number;
  mtime: Date;
  /** False for an entry that may be seen but not opened (the drop box). */
  linked: boolean;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d232a;--bg:#fff;--dim:#5d6873;--line:#e3e7eb;--link:#0b57d0;--hover:#f3f6f9}
@media (prefers-color-scheme:dark){:root{--fg:#e4e8ec;--bg:#14181c;--dim:#9aa5b0;--line:#2a3138;--link:#8ab4f8;--hover:#1c2228}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:64rem;padding:1rem;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.25rem;font-weight:600;margin:.25rem 0 1rem;overflow-wrap:anywhere}
h1 a{color:inherit}
a{color:var(--link);text-decoration:none}
a:hover,a:focus{text-decoration:underline}
pre.message{white-space:pre-wrap;overflow-wrap:anywhere;margin:0 0 1rem;padding:.75rem 1rem;border:1px solid var(--line);border-radius:6px;font:14px/1.4 ui-monospace,Menlo,Consolas,monospace}
table{width:100%;border-collapse:collapse}
th,td{padding:.4rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:.85rem;font-weight:600;color:var(--dim);white-space:nowrap}
th button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer}
th button:hover,th button:focus{color:var(--link)}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
tbody tr:hover{background:var(--hover)}
td:first-child{overflow-wrap:anywhere}
td:nth-child(2),th.size{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td:nth-child(3){white-space:nowrap;color:var(--dim);font-variant-numeric:tabular-nums}
.note{color:var(--dim);font-size:.85rem}
footer{margin-top:1rem;color:var(--dim);font-size:.85rem}
@media (max-width:640px){
body{padding:.75rem;font-size:15px}
thead tr{display:flex;gap:1rem}
thead th{border:0;padding:.25rem 0}
tbody tr{display:grid;grid-template-columns:1fr auto;border-bottom:1px solid var(--line);padding:.35rem 0}
td{border:0;padding:.1rem .25rem}
td:first-child{grid-column:1/-1}
td+td{font-size:.8rem;color:var(--dim)}
td:nth-child(2){text-align:left}
}
`;

const SCRIPT = `
(function () {
  var table = document.getElementById('entries');
  if (!table || !table.tHead || !table.tBodies[0]) return;
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  var current = { key: 'name', dir: 1 };
  var entries = null;
  function entry(row) {
    var first = row.cells[0].firstChild;
    var time = row.cells[2].firstChild;
    return {
      row: row,
      dir: row.className === 'd' ? 0 : 1,
      name: first ? first.textContent.replace(/\\/? ?$/, '') : '',
      size: parseInt(row.cells[1].title, 10) || 0,
      mtime: (time && Date.parse(time.getAttribute('datetime'))) || 0
    };
  }
  function byName(a, b) { return a.name.localeCompare(b.name, undefined, { numeric: true }); }
  function compare(key, dir) {
    return function (a, b) {
      if (a.dir !== b.dir) return a.dir - b.dir;
      var c = key === 'name' ? byName(a, b) : a[key] - b[key];
      if (c === 0 && key !== 'name') c = byName(a, b);
      return c * dir;
    };
  }
  function sortBy(key) {
    var dir = current.key === key ? -current.dir : 1;
    current = { key: key, dir: dir };
    if (!entries) entries = Array.prototype.map.call(body.querySelectorAll('tr:not(.up)'), entry);
    entries.sort(compare(key, dir));
    var frag = document.createDocumentFragment();
    entries.forEach(function (e) { frag.appendChild(e.row); });
    body.appendChild(frag);
    Array.prototype.forEach.call(heads, function (th) {
      if (th.getAttribute('data-key') === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else if (th.hasAttribute('data-key')) th.setAttribute('aria-sort', 'none');
    });
  }
  Array.prototype.forEach.call(heads, function (th) {
    var key = th.getAttribute('data-key');
    if (!key) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = th.textContent;
    button.title = 'Sort by ' + th.textContent.toLowerCase();
    button.addEventListener('click', function () { sortBy(key); });
    th.textContent = '';
    th.appendChild(button);
  });
  if (table.getAttribute('data-sorted') === 'yes') heads[0].setAttribute('aria-sort', 'ascending');
})();
`;

/**
 * The Content-Security-Policy of directory pages: nothing may load, run or
 * be submitted but the page's own style and script (by hash). The icon is
 * an empty data: URL, so browsers do not ask for /favicon.ico.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src ${cspHash(STYLE)}`,
  `script-src ${cspHash(SCRIPT)}`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string) : text;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A size in human units (IEC: KiB, MiB...), e.g. `512 B`, `1.5 KiB`, `64 KiB`. */
export function humanSize(bytes: number): string {
  const units = UNITS;
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  const text = i === 0 || n >= 10 ? String(Math.round(n)) : n.toFixed(1).replace(/\.0$/, '');
  // Rounding may reach the next unit (1023.6 KiB is shown as 1 MiB).
  if (text === '1024' && i < units.length - 1) return `1 ${units[i + 1]}`;
  return `${text} ${units[i]}`;
}

/** The heading: the directory's path with a link per ancestor. */
function heading(dir: string): string {
  const names = dir.split('/').filter((s) => s !== '');
  let up = '';
  const parts: string[] = [];
  for (let i = names.length - 1; i >= 0; i--) {
    const name = names[i] as string;
    // The last name is this page; each one before links up as many levels.
    parts.unshift(up === '' ? escapeHtml(name) : `<a href="${up}">${escapeHtml(name)}</a>`);
    up += '../';
  }
  const root = names.length === 0 ? '/' : `<a href="${up}">/</a>`;
  return `Index of ${root}${parts.join('/')}${names.length > 0 ? '/' : ''}`;
}

/** The start of a page: head, heading, the `.message` text, the table's head and the parent link. */
export function pageHead(dir: string, message: string | null, sorted: boolean): string {
  const title = dir === '/' ? '/' : `${dir}/`;
  const note = message === null || message.trim() === '' ? '' : `<pre class="message">${escapeHtml(message)}</pre>\n`;
  const parent = dir === '/' ? '' : '<tr class="up"><td><a href="../">../</a> <span class="note">(parent directory)</span></td><td></td><td></td></tr>\n';
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="referrer" content="no-referrer">\n<link rel="icon" href="data:,">\n' +
    `<title>Index of ${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    `<h1>${heading(dir)}</h1>\n${note}` +
    `<table id="entries" data-sorted="${sorted ? 'yes' : 'no'}">\n` +
    '<thead><tr><th data-key="name">Name</th><th data-key="size" class="size">Size</th><th data-key="mtime">Modified</th></tr></thead>\n' +
    `<tbody>\n${parent}`
  );
}

/**
 * One table row. Sorting reads the cells (the name, the size's title, the
 * time's `datetime`) rather than attributes that would repeat them.
 */
function row(e: PageEntry): string {
  const dir = e.type === 'dir';
  // A name of unreserved characters only (nearly all) is its own HTML text and its own link.
  const plain = isUnreserved(e.name);
  const text = plain ? e.name : escapeHtml(e.name);
  const shown = dir ? text + '/' : text;
  const href = plain ? e.name : encodeName(e.name);
  const name = e.linked ? `<a href="${href}${dir ? '/' : ''}">${shown}</a>` : `${shown} <span class="note">(upload only)</span>`;
  const size = dir ? '<td>-</td>' : `<td title="${e.size} bytes">${humanSize(e.size)}</td>`;
  return `<tr${dir ? ' class="d"' : ''}><td>${name}</td>${size}<td>${timeCell(e.mtime.getTime())}</td></tr>\n`;
}

/** True when every character of `name` is unreserved in URLs (A-Z a-z 0-9 . _ ~ -), none of which HTML escapes. */
export function isUnreserved(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** The last time cell made: entries unpacked or copied together share their times. */
let lastTime = { ms: NaN, html: '' };

function timeCell(ms: number): string {
  if (ms !== lastTime.ms) {
    const m = minuteOf(ms);
    // Built from the minute's texts without slicing a whole ISO time per row.
    const html = m ? `<time datetime="${m.iso}:${seconds(ms - m.start)}Z">${m.shown}</time>` : isoCell(new Date(ms).toISOString());
    lastTime = { ms, html };
  }
  return lastTime.html;
}

function isoCell(iso: string): string {
  return `<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)}</time>`;
}

const MINUTE_MS = 60_000;

/** A minute's texts: `YYYY-MM-DDTHH:MM` and `YYYY-MM-DD HH:MM`. */
interface Minute {
  start: number;
  iso: string;
  shown: string;
}

/** The last minute formatted: the entries of a directory are mostly from a few minutes. */
let lastMinute: Minute = { start: NaN, iso: '', shown: '' };

/** The minute of `ms` (whole milliseconds), or null outside the years 0-9999 (and for invalid times). */
function minuteOf(ms: number): Minute | null {
  const start = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  if (start !== lastMinute.start) {
    if (!(start >= MIN_TIME && start <= MAX_TIME)) return null;
    const iso = new Date(start).toISOString().slice(0, 16);
    lastMinute = { start, iso, shown: iso.slice(0, 10) + ' ' + iso.slice(11) };
  }
  return lastMinute;
}

/** The times toISOString writes with a four-digit year: 0000-01-01 to 9999-12-31. */
const MIN_TIME = -62_167_219_200_000;
const MAX_TIME = 253_402_300_799_999;

/** `SS.mmm` of the milliseconds into a minute. */
function seconds(t: number): string {
  return `${two(Math.floor(t / 1000))}.${three(t % 1000)}`;
}

/**
 * `new Date(ms).toISOString()`, with the date, hour and minute made once
 * per minute: the entries of a directory are mostly from a few minutes,
 * and toISOString costs about a microsecond a call. Times outside the
 * years 0-9999 (and invalid ones) are left to toISOString.
 */
export function isoTime(time: number): string {
  const ms = Math.trunc(time) + 0; // as Date keeps it: whole milliseconds, no -0
  const m = minuteOf(ms);
  return m ? `${m.iso}:${seconds(ms - m.start)}Z` : new Date(ms).toISOString();
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function three(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n);
}

/** Rows for a batch of entries. */
export function pageRows(entries: readonly PageEntry[]): string {
  // Joined once: flat, rather than a tree of concatenations to flatten when sent.
  const rows = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) rows[i] = row(entries[i] as PageEntry);
  return rows.join('');
}

/** The end of a page: the count, a note when the directory was too large to sort, the script. */
export function pageTail(count: number, sorted: boolean): string {
  const unsorted = sorted ? '' : ' This directory is too large to sort on the server: directories come first, each group in storage order.';
  return (
    '</tbody>\n</table>\n' + `<footer>${count} ${count === 1 ? 'entry' : 'entries'}.${unsorted} Served by Wharf.</footer>\n` + `<script>${SCRIPT}</script>\n</body>\n</html>\n`
  );
}

/** A small HTML page for a redirect body. */
export function redirectBody(location: string): string {
  return `<!doctype html>\n<title>Moved</title>\n<p>Moved to <a href="${escapeHtml(location)}">${escapeHtml(location)}</a>.</p>\n`;
}
