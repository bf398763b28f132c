/**
 * The web view in a real browser: headless Chromium (Debian's `chromium`,
 * driven by playwright-core). Opens the root page, follows a link into a
 * directory, sorts by size and by name without a reload, downloads a file
 * (byte-exact, under its UTF-8 name), and checks that nothing logged an
 * error or broke the Content-Security-Policy, at desktop and phone widths.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, recordViolations, violations, watch } from '../helpers/browser.js';
import { bytes, makeTree, sha256 } from '../helpers/clients.js';
import { startWeb } from '../helpers/http.js';

/** Debian's Chromium; a missing browser fails the test. */

// One browser for the file, started before any test server: the servers' leak checks then see only what each test opens.
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

/** Problems a page shows, but the net::ERR_ABORTED of a link that became a download. */
function watchPage(page: Page): { problems(): string[] } {
  const downloads = new Set<string>();
  page.on('download', (d) => downloads.add(d.url()));
  const w = watch(page, (p) => [...downloads].some((u) => p === `request failed: ${u} net::ERR_ABORTED`));
  return { problems: () => w.problems() };
}

/** The names in the page's table as shown, in order (directories end with /), without the parent link. */
const rowNames = (page: Page) => page.$$eval('tbody tr:not(.up)', (rows) => rows.map((r) => ((r as HTMLTableRowElement).cells[0]?.firstChild?.textContent ?? '').trim()));

test('Chromium: root page, a link into a directory, sort by size and name, a download, no errors or CSP violations', async (t) => {
  const web = await startWeb(t);
  const payload = bytes(300_000, 9);
  await makeTree(web.srv.root, {
    '.message': 'Welcome, browser.\n',
    'pub/small.txt': 'tiny\n',
    'pub/medium.bin': bytes(5000, 2),
    'pub/zzz-large.bin': bytes(120_000, 4),
    'pub/données 1.tar.gz': payload,
    'pub/adir/inner.txt': 'inner\n',
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
  try {
    await browse(context, web.url, web.tmp, payload);
  } finally {
    await context.close();
  }
});

async function browse(context: BrowserContext, url: string, tmp: string, payload: Buffer): Promise<void> {
  const page = await context.newPage();
  const watched = watchPage(page);
  await recordViolations(page);

  await page.goto(`${url}/`);
  assert.equal(await page.title(), 'Index of /');
  assert.equal(await page.textContent('pre.message'), 'Welcome, browser.');
  assert.deepEqual(await rowNames(page), ['incoming/', 'pub/', 'hello.txt']);
  // The script turned the headers into sort buttons.
  assert.equal(await page.locator('th button').count(), 3);

  await Promise.all([page.waitForURL(`${url}/pub/`), page.click('a[href="pub/"]')]);
  assert.equal(await page.title(), 'Index of /pub/');
  assert.deepEqual(await rowNames(page), ['adir/', 'data.bin', 'données 1.tar.gz', 'medium.bin', 'small.txt', 'zzz-large.bin']);
  assert.equal(await page.getAttribute('tbody tr:has(a[href="zzz-large.bin"]) td:nth-child(2)', 'title'), '120000 bytes');

  await page.click('th[data-key="size"] button');
  assert.deepEqual(await rowNames(page), ['adir/', 'small.txt', 'medium.bin', 'data.bin', 'zzz-large.bin', 'données 1.tar.gz']);
  assert.equal(await page.getAttribute('th[data-key="size"]', 'aria-sort'), 'ascending');
  await page.click('th[data-key="size"] button');
  assert.deepEqual(await rowNames(page), ['adir/', 'données 1.tar.gz', 'zzz-large.bin', 'data.bin', 'medium.bin', 'small.txt']);
  assert.equal(await page.getAttribute('th[data-key="size"]', 'aria-sort'), 'descending');
  await page.click('th[data-key="name"] button');
  assert.deepEqual(await rowNames(page), ['adir/', 'data.bin', 'données 1.tar.gz', 'medium.bin', 'small.txt', 'zzz-large.bin']);
  assert.equal(page.url(), `${url}/pub/`, 'sorting does not reload or navigate');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[href="donn%C3%A9es%201.tar.gz"]')]);
  assert.equal(download.suggestedFilename(), 'données 1.tar.gz');
  const saved = path.join(tmp, 'download.bin');
  await download.saveAs(saved);
  assert.equal(sha256(await fs.readFile(saved)), sha256(payload));

  // Back to the parent through the parent link.
  await Promise.all([page.waitForURL(`${url}/`), page.click('a[href="../"]')]);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(watched.problems(), []);
}

test('Chromium: the page fits a phone screen and keeps its CSP (no inline style or script outside the hashes)', async (t) => {
  const web = await startWeb(t);
  await makeTree(web.srv.root, { 'pub/a-file-with-a-rather-long-name-that-must-wrap-on-a-phone-screen-version-1.2.3.tar.xz': 'x' });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  try {
    await phone(context, web.url);
  } finally {
    await context.close();
  }
});

async function phone(context: BrowserContext, url: string): Promise<void> {
  const page = await context.newPage();
  const watched = watchPage(page);
  await recordViolations(page);
  await page.goto(`${url}/pub/`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width} px wide on a 390 px screen`);
  // Sorting works by touch too.
  await page.tap('th[data-key="size"] button');
  assert.equal(await page.getAttribute('th[data-key="size"]', 'aria-sort'), 'ascending');
  // The page's own style applied (its hash matched): the body is not the browser default.
  const margin = await page.evaluate(() => getComputedStyle(document.body).marginTop);
  assert.equal(margin, '0px');
  const png = await page.screenshot({ fullPage: true });
  assert.equal(png.readUInt32BE(16), 390 * 2, 'screenshot width');
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(watched.problems(), []);
  // The policy is in force (and the recorder sees it): a script the page did not ship is refused.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'document.title = "injected"';
    document.body.appendChild(s);
  });
  assert.notEqual(await page.title(), 'injected');
  assert.match((await violations(page)).join('\n'), /^script-src/);
}
