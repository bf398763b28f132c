/**
 * The web view's pure parts: the Range parser, the conditional request
 * rules, the request-target decoder and the drop box rule, HTML escaping
 * and the page's hashes, sizes, content types and Content-Disposition,
 * and the listing order (sorted, or two passes past the bound).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { entityTag, identityHash, ifRangeHolds, parseRange, preconditions } from '../../src/http/conditions.js';
import { decodeTarget, encodeName, inDropBox } from '../../src/http/paths.js';
import { escapeHtml, humanSize, isoTime, isUnreserved, PAGE_CSP, pageHead, pageRows, pageTail } from '../../src/http/page.js';
import { contentDisposition, contentType } from '../../src/http/mime.js';
import { orderedListing, type ListingRules } from '../../src/http/listing.js';
import { anonymousAccess } from '../../src/auth/access.js';
import { MemoryVfs } from '../../src/vfs/memory/memoryVfs.js';

test('parseRange: single ranges, suffixes, open ends, clamping', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=50-5000', 100), { kind: 'partial', start: 50, end: 99 });
  assert.deepEqual(parseRange('Bytes = 5-5', 100), { kind: 'partial', start: 5, end: 5 });
  assert.deepEqual(parseRange('bytes=0-99999999999999999999', 100), { kind: 'partial', start: 0, end: 99 });
});

test('parseRange: unsatisfiable, malformed and multiple ranges', () => {
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=100-200', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=99999999999999999999-', 100), { kind: 'unsatisfiable' });
  for (const bad of ['bytes=9-1', 'bytes=a-b', 'bytes=-', 'bytes=', 'items=0-1', 'bytes 0-1', 'bytes=1-2-3', 'bytes=+1-2', 'bytes=0x1-2']) {
    assert.deepEqual(parseRange(bad, 100), { kind: 'full' }, bad);
  }
  // Several ranges: the whole file (RFC 9110 allows ignoring Range).
  assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-1, -5', 100), { kind: 'full' });
});

test('preconditions and If-Range follow RFC 9110', () => {
  const mtime = new Date('2024-05-01T12:00:00.500Z');
  const v = { etag: '"abc"', mtime };
  const same = 'Wed, 01 May 2024 12:00:00 GMT';
  const before = 'Wed, 01 May 2024 11:59:59 GMT';
  assert.equal(preconditions({}, v), 'proceed');
  assert.equal(preconditions({ 'if-none-match': '"abc"' }, v), 'not-modified');
  assert.equal(preconditions({ 'if-none-match': 'W/"abc"' }, v), 'not-modified');
  assert.equal(preconditions({ 'if-none-match': '"x", "abc"' }, v), 'not-modified');
  assert.equal(preconditions({ 'if-none-match': '*' }, v), 'not-modified');
  assert.equal(preconditions({ 'if-none-match': '"x"' }, v), 'proceed');
  // If-None-Match wins over If-Modified-Since.
  assert.equal(preconditions({ 'if-none-match': '"x"', 'if-modified-since': same }, v), 'proceed');
  assert.equal(preconditions({ 'if-modified-since': same }, v), 'not-modified');
  assert.equal(preconditions({ 'if-modified-since': before }, v), 'proceed');
  assert.equal(preconditions({ 'if-modified-since': 'garbage' }, v), 'proceed');
  assert.equal(preconditions({ 'if-match': '"abc"' }, v), 'proceed');
  assert.equal(preconditions({ 'if-match': 'W/"abc"' }, v), 'failed');
  assert.equal(preconditions({ 'if-match': '"x"' }, v), 'failed');
  assert.equal(preconditions({ 'if-unmodified-since': before }, v), 'failed');
  assert.equal(preconditions({ 'if-unmodified-since': same }, v), 'proceed');
  assert.equal(ifRangeHolds(undefined, v), true);
  assert.equal(ifRangeHolds('"abc"', v), true);
  assert.equal(ifRangeHolds('"x"', v), false);
  assert.equal(ifRangeHolds('W/"abc"', v), false);
  assert.equal(ifRangeHolds(same, v), true);
  assert.equal(ifRangeHolds(before, v), false);
});

test('entityTag: strong, and changes with size, time and identity', () => {
  const base = { name: 'f', type: 'file' as const, size: 10, mtime: new Date(1000), mode: 0o644, unique: '1.2' };
  const tag = entityTag(base);
  assert.match(tag, /^"[^"]+"$/);
  assert.equal(entityTag({ ...base }), tag);
  assert.notEqual(entityTag({ ...base, size: 11 }), tag);
  assert.notEqual(entityTag({ ...base, mtime: new Date(1001) }), tag);
  assert.notEqual(entityTag({ ...base, unique: '1.3' }), tag);
  assert.notEqual(entityTag({ ...base, unique: undefined }), tag);
});

test('identityHash: the SHA-256 prefix, the same when made again and past the size of the memo', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 8);
  for (let round = 0; round < 2; round++) for (let i = 0; i < 5000; i++) assert.equal(identityHash(`66306.${i}`), sha(`66306.${i}`));
});

test('decodeTarget: paths, trailing slashes, formats', () => {
  assert.deepEqual(decodeTarget('/'), { ok: true, path: '/', trailingSlash: true, format: 'html' });
  assert.deepEqual(decodeTarget('/pub/data.bin'), { ok: true, path: '/pub/data.bin', trailingSlash: false, format: 'html' });
  assert.deepEqual(decodeTarget('/pub/?format=json'), { ok: true, path: '/pub', trailingSlash: true, format: 'json' });
  assert.deepEqual(decodeTarget('//pub///x'), { ok: true, path: '/pub/x', trailingSlash: false, format: 'html' });
  assert.deepEqual(decodeTarget('/sp%C3%A4ce%20name.txt?C=N;O=D'), { ok: true, path: '/späce name.txt', trailingSlash: false, format: 'html' });
  // Raw UTF-8 bytes, as Node hands them (latin1 text).
  assert.deepEqual(decodeTarget(Buffer.from('/ä', 'utf8').toString('latin1')), { ok: true, path: '/ä', trailingSlash: false, format: 'html' });
  // The absolute form: its path.
  assert.deepEqual(decodeTarget('http://example.org/pub/x'), { ok: true, path: '/pub/x', trailingSlash: false, format: 'html' });
  assert.deepEqual(decodeTarget('HTTP://example.org'), { ok: true, path: '/', trailingSlash: true, format: 'html' });
  assert.deepEqual(decodeTarget('http://example.org?format=json'), { ok: true, path: '/', trailingSlash: true, format: 'json' });
  assert.equal(encodeName('a:b c?#%'), 'a%3Ab%20c%3F%23%25');
  assert.equal(encodeName("it's (1)*"), 'it%27s%20%281%29%2A');
});

test('decodeTarget: hostile and malformed targets are refused, never interpreted', () => {
  const refused: [string, number][] = [
    ['/../etc/passwd', 400],
    ['/pub/../../etc', 400],
    ['/%2e%2e/etc/passwd', 400],
    ['/%2E%2E%2Fetc', 400],
    ['/./x', 400],
    ['/%2e/x', 400],
    ['/pub%2f..%2fx', 400],
    ['/pub%5cx', 400],
    ['/pub\\..\\x', 400],
    ['/a%00b', 400],
    ['/a%0ab', 400],
    ['/a%7fb', 400],
    ['/%zz', 400],
    ['/%4', 400],
    ['/%ff%fe', 400],
    ['/%c0%af', 400],
    ['pub/x', 400],
    ['*', 400],
    ['http://example.org/../x', 400],
    ['/x?format=xml', 400],
    ['/a#b', 400],
    ['/' + 'a'.repeat(256), 414],
    ['/' + 'a/'.repeat(5000), 414],
  ];
  for (const [target, status] of refused) {
    const d = decodeTarget(target);
    assert.equal(d.ok, false, target);
    if (!d.ok) assert.equal(d.status, status, target);
  }
});

test('inDropBox: the drop box and everything in it, under any spelling', () => {
  for (const p of ['/incoming', '/incoming/x', '/Incoming/x', '/INCOMING', '/incoming./x', '/incoming /x', '/incoming../a/b']) assert.equal(inDropBox(p, '/incoming'), true, p);
  for (const p of ['/', '/incomingx', '/pub/incoming', '/pub', '/in']) assert.equal(inDropBox(p, '/incoming'), false, p);
  assert.equal(inDropBox('/pub/Up/x', '/pub/up'), true);
  assert.equal(inDropBox('/pub/x', '/pub/up'), false);
  assert.equal(inDropBox('/anything', undefined), false);
  // Unicode forms: NFD spelling of an NFC name.
  assert.equal(inDropBox('/e\u0301t\u00e9/x', '/\u00e9t\u00e9'), true);
});

test('escapeHtml and the page: archive text is inert, links are percent-encoded', () => {
  assert.equal(escapeHtml(`<script>"&'</script>`), '&lt;script&gt;&quot;&amp;&#39;&lt;/script&gt;');
  const evil = '<img src=x onerror=alert(1)>"\'.txt';
  const html = pageHead('/a<b>', '<b>hi</b> & bye', true) + pageRows([{ name: evil, type: 'file', size: 5, mtime: new Date(0), linked: true }]) + pageTail(1, true);
  assert.doesNotMatch(html, /<img/);
  assert.doesNotMatch(html, /<b>/);
  assert.match(html, /&lt;b&gt;hi&lt;\/b&gt; &amp; bye/);
  assert.match(html, /href="%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%22%27.txt"/);
  assert.match(html, /<meta name="viewport"/);
});

test('the page CSP allows exactly the inline style and script, by hash', () => {
  const html = pageHead('/', null, true) + pageTail(0, true);
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const h = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
  assert.match(PAGE_CSP, /^default-src 'none'/);
  assert.ok(PAGE_CSP.includes(`style-src ${h(style)}`), PAGE_CSP);
  assert.ok(PAGE_CSP.includes(`script-src ${h(script)}`), PAGE_CSP);
  assert.doesNotMatch(PAGE_CSP, /unsafe/);
  assert.doesNotMatch(html, / style="/);
  assert.doesNotMatch(html, / on[a-z]+="/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
});

test('humanSize', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [65536, '64 KiB'],
    [1048575, '1 MiB'],
    [10 * 1024 * 1024 + 1, '10 MiB'],
    [1.25 * 1024 ** 3, '1.3 GiB'],
  ];
  for (const [n, text] of cases) assert.equal(humanSize(n), text, String(n));
});

test('isoTime: exactly toISOString, across days, before 1970, past the years it formats itself', () => {
  const day = 86_400_000;
  const times = [
    0,
    -1,
    1,
    day - 1,
    day,
    -day,
    -day - 1,
    1_764_700_000_123,
    253_402_300_799_999,
    253_402_300_800_000,
    -62_167_219_200_000,
    -62_167_219_200_001,
    8.64e15,
    -8.64e15,
    1.5,
    -0.5,
  ];
  // A deterministic spread, back and forth between days (the day part is kept from call to call).
  for (let i = 0; i < 5000; i++) times.push(((i * 7_919_000_017) % 4e12) - 1e12, 1_764_700_000_000 + ((i * 1_234_567) % (3 * day)));
  for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  assert.throws(() => isoTime(NaN), RangeError);
});

test('isUnreserved: exactly the names that escapeHtml and encodeName leave as they are', () => {
  for (let c = 0; c < 0x180; c++) {
    for (const name of [String.fromCharCode(c), `a${String.fromCharCode(c)}b`]) {
      const same = escapeHtml(name) === name && encodeName(name) === name;
      assert.equal(isUnreserved(name), same, JSON.stringify(name));
    }
  }
  assert.equal(isUnreserved(''), true);
  assert.equal(isUnreserved('entry-000123.txt'), true);
});

test('contentType and contentDisposition', () => {
  assert.equal(contentType('a.txt'), 'text/plain; charset=utf-8');
  assert.equal(contentType('README'), 'text/plain; charset=utf-8');
  assert.equal(contentType('x.TAR.GZ'), 'application/gzip');
  assert.equal(contentType('page.html'), 'text/html; charset=utf-8');
  assert.equal(contentType('image.PNG'), 'image/png');
  assert.equal(contentType('data.bin'), 'application/octet-stream');
  assert.equal(contentType('.hidden'), 'application/octet-stream');
  assert.equal(contentType('noext'), 'application/octet-stream');
  assert.equal(contentDisposition('plain-name_1.0.tar.gz', 'application/gzip'), null);
  assert.equal(contentDisposition('my file.txt', 'text/plain; charset=utf-8'), `inline; filename="my file.txt"; filename*=UTF-8''my%20file.txt`);
  assert.equal(
    contentDisposition('résumé "final".bin', 'application/octet-stream'),
    `attachment; filename="r_sum_ _final_.bin"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.bin`,
  );
  assert.equal(contentDisposition('日本.zip', 'application/zip'), `attachment; filename="__.zip"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.zip`);
});

async function collect(vfs: MemoryVfs, dir: string, rules: ListingRules, max: number): Promise<{ sorted: boolean; names: string[] }> {
  const listing = await orderedListing(vfs, dir, rules, max);
  const names: string[] = [];
  for await (const batch of listing.batches) for (const e of batch) names.push(e.name + (e.type === 'dir' ? '/' : '') + (e.linked ? '' : '!'));
  return { sorted: listing.sorted, names };
}

test('orderedListing: directories first by name, dot files hidden, the drop box unlinked; two passes past the bound', async () => {
  const vfs = new MemoryVfs({ 'b10.txt': 'x', 'b9.txt': 'x', 'a.txt': 'x', '.message': 'hi', 'zdir/f': 'x', 'adir/f': 'x', 'incoming/secret': 's' });
  const rules: ListingRules = { access: anonymousAccess('/incoming'), dropBox: '/incoming' };
  const small = await collect(vfs, '/', rules, 100);
  assert.deepEqual(small, { sorted: true, names: ['adir/', 'incoming/!', 'zdir/', 'a.txt', 'b9.txt', 'b10.txt'] });
  const big = await collect(vfs, '/', rules, 3);
  assert.equal(big.sorted, false);
  assert.deepEqual(big.names.slice(0, 3).sort(), ['adir/', 'incoming/!', 'zdir/']);
  assert.deepEqual(big.names.slice(3).sort(), ['a.txt', 'b10.txt', 'b9.txt']);
});
