/**
 * The directory page cache (`[http] listing_cache`): a page is served
 * again only while the directory is unchanged, nothing was uploaded,
 * deleted or renamed through the server, and it is young enough; a file
 * changed in place by another program shows when the page expires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, makeTree } from '../helpers/clients.js';
import { until } from '../helpers/fleet.js';
import { curl, startWeb, type WebServer } from '../helpers/http.js';

async function page(web: WebServer, dir: string): Promise<string> {
  const r = await curl([`${web.url}${dir}`]);
  assert.equal(r.code, 0, describe(r));
  return r.stdout.toString();
}

/** The exact size the page shows for `name`. */
function shownSize(html: string, name: string): number | null {
  const m = new RegExp(`href="${name.replace(/\./g, '\\.')}">[^<]*</a></td><td title="(\\d+) bytes"`).exec(html);
  return m ? Number(m[1]) : null;
}

test('listing_cache: new and removed entries show at once; an in-place change shows after an upload through the server or when the page expires', async (t) => {
  const web = await startWeb(t, { listing_cache: 0.5 });
  await makeTree(web.srv.root, { 'pub/a.txt': 'aaaa', 'pub/b.txt': 'bb' });
  const pub = path.join(web.srv.root, 'pub');
  assert.equal(shownSize(await page(web, '/pub/'), 'a.txt'), 4);

  // Another program adds and removes entries: the directory changes, the page follows at once.
  await fs.writeFile(path.join(pub, 'c.txt'), 'c');
  await fs.rm(path.join(pub, 'b.txt'));
  const after = await page(web, '/pub/');
  assert.equal(shownSize(after, 'c.txt'), 1);
  assert.equal(shownSize(after, 'b.txt'), null);

  // A change in place leaves the directory as it was: the kept page is served...
  await fs.writeFile(path.join(pub, 'a.txt'), 'a'.repeat(10));
  const json = JSON.parse((await curl([`${web.url}/pub/?format=json`])).stdout.toString()) as { entries: { name: string; size: number }[] };
  assert.equal(json.entries.find((e) => e.name === 'a.txt')?.size, 10, 'the JSON listing is kept apart from the page');
  const stale = shownSize(await page(web, '/pub/'), 'a.txt');
  // ...until it expires (0.5 s), unless the run was slow enough that it already has.
  assert.ok(stale === 4 || stale === 10, String(stale));
  await until(async () => shownSize(await page(web, '/pub/'), 'a.txt') === 10, 10_000, 'the page to expire');

  // An upload through the server (here anonymous, into the drop box) drops every kept page.
  const withCache = await startWeb(t, { listing_cache: 3600 });
  await makeTree(withCache.srv.root, { 'pub/a.txt': 'aaaa' });
  assert.equal(shownSize(await page(withCache, '/pub/'), 'a.txt'), 4);
  await fs.writeFile(path.join(withCache.srv.root, 'pub', 'a.txt'), 'a'.repeat(30));
  assert.equal(shownSize(await page(withCache, '/pub/'), 'a.txt'), 4, 'served from the cache');
  const up = await curl(['-T', '-', `ftp://127.0.0.1:${withCache.srv.port}/incoming/new.bin`], { input: 'x' });
  assert.equal(up.code, 0, describe(up));
  assert.equal(shownSize(await page(withCache, '/pub/'), 'a.txt'), 30, 'the upload emptied the cache');
});

test('listing_cache = 0: every page is made afresh', async (t) => {
  const web = await startWeb(t, { listing_cache: 0 });
  await makeTree(web.srv.root, { 'pub/a.txt': 'aaaa' });
  assert.equal(shownSize(await page(web, '/pub/'), 'a.txt'), 4);
  await fs.writeFile(path.join(web.srv.root, 'pub', 'a.txt'), 'a'.repeat(7));
  assert.equal(shownSize(await page(web, '/pub/'), 'a.txt'), 7);
});
