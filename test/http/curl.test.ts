/**
 * The web view through curl: directory pages and JSON, downloads with
 * their headers, single ranges (206), unsatisfiable ones (416), several
 * ranges (200), conditional requests (304, 412), If-Range, HEAD, the
 * trailing-slash redirect, content types and dispositions, 405.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bytes, describe, makeTree, sha256 } from '../helpers/clients.js';
import { curl, headersOf, startWeb } from '../helpers/http.js';

test('curl: a file with Content-Length, Last-Modified, a strong ETag, Accept-Ranges; byte-exact', async (t) => {
  const web = await startWeb(t);
  const file = path.join(web.tmp, 'data.bin');
  const r = await curl(['-D', '-', '-o', file, `${web.url}/pub/data.bin`]);
  assert.equal(r.code, 0, describe(r));
  const { status, headers } = headersOf(r.stdout.toString());
  assert.equal(status, 200);
  assert.equal(headers.get('content-length'), '65536');
  assert.equal(headers.get('accept-ranges'), 'bytes');
  assert.equal(headers.get('content-type'), 'application/octet-stream');
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
  assert.match(headers.get('etag') ?? '', /^"[^"]+"$/);
  const st = await fs.stat(path.join(web.srv.root, 'pub', 'data.bin'));
  assert.equal(headers.get('last-modified'), st.mtime.toUTCString());
  assert.equal(sha256(await fs.readFile(file)), sha256(await fs.readFile(path.join(web.srv.root, 'pub', 'data.bin'))));
});

test('curl: single ranges give 206 with Content-Range; past the end 416 with bytes */SIZE; several ranges the whole file', async (t) => {
  const web = await startWeb(t);
  const data = await fs.readFile(path.join(web.srv.root, 'pub', 'data.bin'));
  const url = `${web.url}/pub/data.bin`;
  const cases: [string, number, number][] = [
    ['100-199', 100, 199],
    ['65000-', 65000, 65535],
    ['-300', 65236, 65535],
    ['0-0', 0, 0],
    ['65500-99999', 65500, 65535],
  ];
  for (const [range, start, end] of cases) {
    const out = path.join(web.tmp, `part-${start}`);
    const r = await curl(['-D', '-', '-o', out, '-r', range, url]);
    assert.equal(r.code, 0, describe(r));
    const { status, headers } = headersOf(r.stdout.toString());
    assert.equal(status, 206, range);
    assert.equal(headers.get('content-range'), `bytes ${start}-${end}/65536`, range);
    assert.equal(headers.get('content-length'), String(end - start + 1), range);
    assert.deepEqual(await fs.readFile(out), data.subarray(start, end + 1), range);
  }
  const past = await curl(['-D', '-', '-o', '/dev/null', '-r', '70000-', url]);
  const p = headersOf(past.stdout.toString());
  assert.equal(p.status, 416);
  assert.equal(p.headers.get('content-range'), 'bytes */65536');
  const several = await curl(['-D', '-', '-o', path.join(web.tmp, 'multi'), '-r', '0-9,100-109', url]);
  assert.equal(headersOf(several.stdout.toString()).status, 200);
  assert.deepEqual(await fs.readFile(path.join(web.tmp, 'multi')), data);
  // curl -C - resumes a partial download with a Range request.
  const partial = path.join(web.tmp, 'resume.bin');
  await fs.writeFile(partial, data.subarray(0, 40_000));
  const resumed = await curl(['-C', '-', '-o', partial, url]);
  assert.equal(resumed.code, 0, describe(resumed));
  assert.equal(sha256(await fs.readFile(partial)), sha256(data));
});

test('curl: If-None-Match and If-Modified-Since give 304; If-Match 412; If-Range with a stale tag gives the whole file', async (t) => {
  const web = await startWeb(t);
  const url = `${web.url}/hello.txt`;
  const first = headersOf((await curl(['-D', '-', '-o', '/dev/null', url])).stdout.toString());
  const etag = first.headers.get('etag') ?? '';
  const lastModified = first.headers.get('last-modified') ?? '';
  const inm = await curl(['-D', '-', '-H', `If-None-Match: ${etag}`, url]);
  const inmHead = headersOf(inm.stdout.toString());
  assert.equal(inmHead.status, 304);
  assert.equal(inmHead.headers.get('etag'), etag);
  assert.doesNotMatch(inm.stdout.toString(), /Hello/);
  assert.equal(headersOf((await curl(['-D', '-', '-H', `If-Modified-Since: ${lastModified}`, url])).stdout.toString()).status, 304);
  // curl's own -z sends If-Modified-Since.
  assert.equal(headersOf((await curl(['-D', '-', '-z', lastModified, url])).stdout.toString()).status, 304);
  const old = new Date(Date.parse(lastModified) - 86_400_000).toUTCString();
  assert.equal(headersOf((await curl(['-D', '-', '-H', `If-Modified-Since: ${old}`, url])).stdout.toString()).status, 200);
  assert.equal(headersOf((await curl(['-D', '-', '-H', 'If-None-Match: "other"', url])).stdout.toString()).status, 200);
  assert.equal(headersOf((await curl(['-D', '-', '-H', 'If-Match: "other"', url])).stdout.toString()).status, 412);
  const fresh = await curl(['-D', '-', '-r', '0-4', '-H', `If-Range: ${etag}`, url]);
  assert.equal(headersOf(fresh.stdout.toString()).status, 206);
  assert.match(fresh.stdout.toString(), /\r\n\r\nHello$/);
  const stale = await curl(['-D', '-', '-r', '0-4', '-H', 'If-Range: "stale"', url]);
  assert.equal(headersOf(stale.stdout.toString()).status, 200);
  assert.match(stale.stdout.toString(), /\r\n\r\nHello, world!\n$/);
  // A changed file gets a new tag.
  await fs.writeFile(path.join(web.srv.root, 'hello.txt'), 'Hello, again!!\n');
  await fs.utimes(path.join(web.srv.root, 'hello.txt'), new Date(), new Date(Date.now() + 5000));
  assert.equal(headersOf((await curl(['-D', '-', '-H', `If-None-Match: ${etag}`, url])).stdout.toString()).status, 200);
});

test('curl -I: HEAD gives the headers of GET without a body; a directory without its slash redirects', async (t) => {
  const web = await startWeb(t);
  const head = await curl(['-I', `${web.url}/pub/data.bin`]);
  assert.equal(head.code, 0, describe(head));
  const h = headersOf(head.stdout.toString());
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('content-length'), '65536');
  assert.ok(h.headers.get('etag'));
  assert.ok(h.headers.get('last-modified'));
  const dir = headersOf((await curl(['-I', `${web.url}/pub`])).stdout.toString());
  assert.equal(dir.status, 301);
  assert.equal(dir.headers.get('location'), '/pub/');
  const followed = await curl(['-L', `${web.url}/pub`]);
  assert.match(followed.stdout.toString(), /<a href="data\.bin">data\.bin<\/a>/);
  const json = headersOf((await curl(['-I', `${web.url}/pub?format=json`])).stdout.toString());
  assert.equal(json.headers.get('location'), '/pub/?format=json');
  const page = headersOf((await curl(['-I', `${web.url}/`])).stdout.toString());
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(page.headers.get('content-security-policy') ?? '', /^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
});

test('curl: directory pages list entries with links, sizes, dates and the .message; ?format=json for scripts', async (t) => {
  const web = await startWeb(t);
  await makeTree(web.srv.root, {
    '.message': 'Welcome to <the> archive & friends\n',
    'pub/sub dir/inner.txt': 'inner\n',
    'pub/ünïcode name.txt': 'u\n',
    'pub/big.iso': bytes(3 * 1024 * 1024 + 5, 3),
  });
  const root = (await curl([`${web.url}/`])).stdout.toString();
  assert.match(root, /<pre class="message">Welcome to &lt;the&gt; archive &amp; friends<\/pre>/);
  assert.match(root, /<a href="pub\/">pub\/<\/a>/);
  assert.match(root, /incoming\/ <span class="note">\(upload only\)<\/span>/);
  assert.doesNotMatch(root, /href="incoming/);
  assert.doesNotMatch(root, />\.message</);
  assert.ok(root.indexOf('pub/') < root.indexOf('hello.txt'), 'directories first');
  const pub = (await curl([`${web.url}/pub/`])).stdout.toString();
  assert.match(pub, /<a href="\.\.\/">\.\.\/<\/a>/);
  assert.match(pub, /<a href="sub%20dir\/">sub dir\/<\/a>/);
  assert.match(pub, /<a href="%C3%BCn%C3%AFcode%20name\.txt">ünïcode name\.txt<\/a>/);
  assert.match(pub, /title="3145733 bytes">3 MiB</);
  assert.match(pub, /title="65536 bytes">64 KiB</);
  assert.match(pub, /<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/);
  const json = await curl([`${web.url}/pub/?format=json`]);
  const listing = JSON.parse(json.stdout.toString()) as { path: string; entries: { name: string; type: string; size: number | null; href?: string }[] };
  assert.equal(listing.path, '/pub/');
  assert.deepEqual(
    listing.entries.map((e) => [e.name, e.type, e.size, e.href]),
    [
      ['sub dir', 'dir', null, 'sub%20dir/'],
      ['big.iso', 'file', 3145733, 'big.iso'],
      ['data.bin', 'file', 65536, 'data.bin'],
      ['ünïcode name.txt', 'file', 2, '%C3%BCn%C3%AFcode%20name.txt'],
    ],
  );
  const rootJson = JSON.parse((await curl([`${web.url}/?format=json`])).stdout.toString()) as {
    message: string;
    entries: { name: string; upload_only?: boolean; href?: string }[];
  };
  assert.equal(rootJson.message, 'Welcome to <the> archive & friends');
  assert.deepEqual(
    rootJson.entries.find((e) => e.name === 'incoming'),
    rootJson.entries.find((e) => e.upload_only === true && e.href === undefined),
  );
});

test('curl: Content-Type from the extension; Content-Disposition with filename* for UTF-8 names and spaces', async (t) => {
  const web = await startWeb(t);
  await makeTree(web.srv.root, { 'notes.txt': 'n\n', 'a b.tar.gz': 'gz', 'résumé.pdf': '%PDF', 'page.html': '<p>x</p>' });
  const type = async (p: string) => headersOf((await curl(['-I', `${web.url}/${p}`])).stdout.toString()).headers;
  assert.equal((await type('notes.txt')).get('content-type'), 'text/plain; charset=utf-8');
  assert.equal((await type('notes.txt')).get('content-disposition'), undefined);
  assert.equal((await type('page.html')).get('content-type'), 'text/html; charset=utf-8');
  const gz = await type('a%20b.tar.gz');
  assert.equal(gz.get('content-type'), 'application/gzip');
  assert.equal(gz.get('content-disposition'), `attachment; filename="a b.tar.gz"; filename*=UTF-8''a%20b.tar.gz`);
  assert.equal((await type('r%C3%A9sum%C3%A9.pdf')).get('content-disposition'), `inline; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
  // curl -J saves under the header's name (curl reads the ASCII fallback; browsers read filename*, see browser.test).
  const saved = await curl(['-O', '-J', `${web.url}/r%C3%A9sum%C3%A9.pdf`], { cwd: web.tmp });
  assert.equal(saved.code, 0, describe(saved));
  assert.equal(await fs.readFile(path.join(web.tmp, 'r_sum_.pdf'), 'utf8'), '%PDF');
});

test('curl: other methods get 405 with Allow; errors are short plain text', async (t) => {
  const web = await startWeb(t);
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND']) {
    const r = await curl(['-D', '-', '-X', method, '--data-binary', 'x', `${web.url}/hello.txt`]);
    const h = headersOf(r.stdout.toString());
    assert.equal(h.status, 405, method);
    assert.equal(h.headers.get('allow'), 'GET, HEAD', method);
  }
  const missing = await curl(['-D', '-', `${web.url}/pub/nope.txt`]);
  const m = headersOf(missing.stdout.toString());
  assert.equal(m.status, 404);
  assert.equal(m.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.match(missing.stdout.toString(), /\r\n\r\n404 Not Found: no such file or directory\n$/);
  // A file with a trailing slash, a path under a file: 404.
  assert.equal(headersOf((await curl(['-D', '-', `${web.url}/hello.txt/`])).stdout.toString()).status, 404);
  assert.equal(headersOf((await curl(['-D', '-', `${web.url}/hello.txt/x`])).stdout.toString()).status, 404);
});
