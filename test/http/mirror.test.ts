/**
 * The web view in non-JavaScript clients: `wget -r -np` mirrors the
 * archive byte for byte from the directory pages' links (and fetches
 * nothing it should not: no drop box, no sort links, no parents); lynx and
 * w3m show the entries, sizes and the `.message` as text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { bytes, describe, makeTree, readTree, run } from '../helpers/clients.js';
import { startWeb } from '../helpers/http.js';

const TREE = {
  '.message': 'Welcome to the test archive.\nMirrors welcome.\n',
  README: 'read me\n',
  'pub/big.bin': bytes(2 * 1024 * 1024 + 17, 5),
  'pub/empty.txt': '',
  'pub/sub dir/space name.txt': 'spaces\n',
  'pub/sub dir/deeper/ünïcödé.txt': 'unicode\n',
  'pub/a+b&c=d;e.txt': 'reserved characters\n',
  'pub/100%.txt': 'percent\n',
  'docs/notes.md': '# notes\n',
};

test('wget -r -np mirrors the web view byte-exact, and nothing else', async (t) => {
  const web = await startWeb(t);
  await makeTree(web.srv.root, { ...TREE, 'incoming/dropped.bin': 'not for download\n' });
  const dest = path.join(web.tmp, 'mirror');
  const r = await run(
    'wget',
    ['-r', '-np', '-l', 'inf', '-nH', '-e', 'robots=off', '--no-verbose', '--timeout=10', '--tries=1', '--restrict-file-names=nocontrol', '-P', dest, `${web.url}/`],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, describe(r));
  const mirrored = await readTree(dest);
  const archive = await readTree(web.srv.root);
  // The archive as the web view shows it: no dot files, nothing in the drop box.
  const expected = Object.fromEntries(Object.entries(archive).filter(([p]) => !p.split('/').some((s) => s.startsWith('.')) && p !== 'incoming' && !p.startsWith('incoming/')));
  const files = Object.fromEntries(Object.entries(mirrored).filter(([p]) => !/(^|\/)index\.html$/.test(p)));
  assert.deepEqual(files, expected);
  // One page per directory, no query-string variants (sort links) and no drop box.
  const pages = Object.keys(mirrored)
    .filter((p) => p.endsWith('index.html'))
    .sort();
  assert.deepEqual(pages, ['docs/index.html', 'index.html', 'pub/index.html', 'pub/sub dir/deeper/index.html', 'pub/sub dir/index.html']);
  assert.ok(!Object.keys(mirrored).some((p) => p.includes('?') || p.startsWith('incoming')), Object.keys(mirrored).join('\n'));
});

test('lynx -dump and w3m -dump show the entries, sizes, dates and the .message', async (t) => {
  const web = await startWeb(t);
  await makeTree(web.srv.root, TREE);
  const lynx = await run('lynx', ['-dump', '-width=120', '-display_charset=utf-8', `${web.url}/pub/`], { timeoutMs: 30_000 });
  assert.equal(lynx.code, 0, describe(lynx));
  const lt = lynx.stdout.toString();
  assert.match(lt, /Index of (\[\d+\])?\/pub\//);
  assert.match(lt, /\[\d+\]sub dir\/\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d/);
  assert.match(lt, /\[\d+\]big\.bin\s+2 MiB\s+\d{4}-\d\d-\d\d \d\d:\d\d/);
  assert.match(lt, /\[\d+\]\.\.\/ \(parent directory\)/);
  // The references lynx follows (it shows them decoded).
  for (const name of ['sub dir/', '100%.txt', 'a+b&c=d;e.txt', 'big.bin', 'empty.txt']) assert.ok(lt.includes(`${web.url}/pub/${name}\n`), `${name}: ${lt}`);
  const got = await run('lynx', ['-source', `${web.url}/pub/a%2Bb%26c%3Dd%3Be.txt`], { timeoutMs: 30_000 });
  assert.equal(got.stdout.toString(), 'reserved characters\n');
  const w3m = await run('w3m', ['-dump', '-cols', '120', '-O', 'UTF-8', `${web.url}/`], { timeoutMs: 30_000 });
  assert.equal(w3m.code, 0, describe(w3m));
  const wt = w3m.stdout.toString();
  assert.match(wt, /Welcome to the test archive\.\nMirrors welcome\./);
  assert.match(wt, /incoming\/ \(upload only\)/);
  assert.match(wt, /README\s+8 B/);
  assert.match(wt, /pub\/\s+-/);
  const deep = await run('w3m', ['-dump', '-cols', '120', '-O', 'UTF-8', `${web.url}/pub/sub%20dir/deeper/`], { timeoutMs: 30_000 });
  assert.match(deep.stdout.toString(), /ünïcödé\.txt\s+8 B/);
});
