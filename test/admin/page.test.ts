/**
 * The admin status page: its Content-Security-Policy against its inline
 * style and script (unit), then in headless Chromium (Debian's `chromium`,
 * driven by playwright-core, every request carrying the Bearer header as a
 * proxy would): a slow FTP download grows on screen without a reload, the
 * page's Disconnect button ends it (curl fails) and the row goes; a ban
 * added from the page is in `GET /api/bans` and Lift removes it; the page
 * keeps working by polling when the stream fails; without the header it
 * is a 401. No console errors, no CSP violations, no sideways scrolling at
 * phone width. With WHARF_SCREENSHOTS=1 it writes docs/screenshots/admin-*.png.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium, recordViolations, violations, watch } from '../helpers/browser.js';
import { bytes, curl, describe, type RunResult } from '../helpers/clients.js';
import { secretHash, startServer, type TestServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { statusPage } from '../../src/admin/page.js';

/** Debian's Chromium; a missing browser fails the test. */
const AUTH = { Authorization: 'Bearer secret' };
const SCREENSHOTS = process.env.WHARF_SCREENSHOTS === '1';
/** docs/screenshots of the repository (this file runs from dist/test/admin). */
const SHOT_DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
/** The anonymous max_rate of the slow downloads, and their size. */
const RATE = 256 * 1024;
const BIG = 16 * 1024 * 1024;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const sha = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

test('the CSP allows exactly the inline style and script, by their sha256 hashes; nothing else is inline or external', () => {
  const page = statusPage();
  assert.equal(statusPage(), page, 'built once, then cached');
  const scripts = [...page.html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
  const styles = [...page.html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
  assert.equal(scripts.length, 1);
  assert.equal(styles.length, 1);
  const [script = '', style = ''] = [scripts[0], styles[0]];
  assert.equal(
    page.csp,
    `default-src 'none'; script-src ${sha(script)}; style-src ${sha(style)}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  assert.equal((page.html.match(/<script/g) ?? []).length, 1, 'no other script element');
  assert.doesNotMatch(page.html, /\sstyle=/, 'no style attribute (it would need unsafe-hashes)');
  assert.doesNotMatch(page.html, /\son[a-z]+=/i, 'no inline event handler');
  assert.doesNotMatch(page.html, /<(link|img|script|iframe)[^>]*\s(src|href)="(?!data:)/, 'nothing loaded from anywhere');
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'data goes in as text, never markup');
  for (const h of ['Wharf status', 'Sessions', 'Throughput', 'Bans', 'Recent transfers']) assert.match(page.html, new RegExp(`<h[12][^>]*>${h}`), h);
});

// One browser for the file, started before any test server: the servers' leak checks then see only what each test opens.
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

/** A server with `[admin]` (token: the password "secret") and overrides; closed after the test. */
async function adminServer(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; url: string }> {
  const srv = await startServer({ ...overrides, admin: { port: 0, token: await secretHash() } });
  t.after(() => srv.close());
  const a = srv.server.addresses.admin;
  assert.ok(a, 'the admin listener started');
  return { srv, url: `http://127.0.0.1:${a.port}` };
}

/** curl against the admin API: status and body. */
async function api(url: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: string }> {
  const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', method, '-H', `Authorization: ${AUTH.Authorization}`];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  const r = await curl([...args, `${url}${p}`]);
  const text = r.stdout.toString();
  const cut = text.lastIndexOf('\n');
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

async function bannedAddresses(url: string): Promise<string[]> {
  const r = await api(url, 'GET', '/api/bans');
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { address: string }[]).map((b) => b.address);
}

/** Opens the page in a context, watching it; the marker shows later that it was never reloaded. */
async function open(context: BrowserContext, url: string): Promise<{ page: Page; watched: ReturnType<typeof watch> }> {
  const page = await context.newPage();
  const watched = watch(page);
  await recordViolations(page);
  const res = await page.goto(`${url}/`);
  assert.equal(res?.status(), 200);
  assert.equal(res?.headers()['content-security-policy'], statusPage().csp);
  assert.equal(await page.title(), 'Wharf status');
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  return { page, watched };
}

const notReloaded = (page: Page): Promise<boolean> => page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true);

/** A few finished transfers (a download, an upload) and a ban, so the page has something in every table. */
async function someHistory(srv: TestServer, url: string): Promise<void> {
  const got = await curl([`ftp://127.0.0.1:${srv.port}/hello.txt`, '-o', '/dev/null']);
  assert.equal(got.code, 0, describe(got));
  const file = path.join(srv.dir, 'report.pdf');
  await fs.writeFile(file, bytes(300_000, 2));
  const put = await curl(['-T', file, `ftp://alice:secret@127.0.0.1:${srv.port}/reports/q3%20%3Cdraft%3E.pdf`, '--ftp-create-dirs']);
  assert.equal(put.code, 0, describe(put));
  assert.equal((await api(url, 'POST', '/api/bans', { address: '203.0.113.7' })).status, 201);
}

/** The row of the session downloading big.bin. */
function bigRow(page: Page): Locator {
  return page.locator('#sessions-body tr').filter({ has: page.locator('td.file', { hasText: 'big.bin' }) });
}

test('Chromium: a slow FTP download grows on screen without a reload; Disconnect ends it; no errors or CSP violations', async (t) => {
  // 16 MiB at 256 KiB/s: over a minute, so curl ends early only if the Disconnect works (else it completes, exit 0).
  const { srv, url } = await adminServer(t, { anonymous: { max_rate: RATE } });
  await fs.writeFile(path.join(srv.root, 'pub', 'big.bin'), bytes(BIG, 5));
  await someHistory(srv, url);
  // An idle user session beside the download.
  const idle = await RawSession.open(srv.port);
  const download = curl([`ftp://127.0.0.1:${srv.port}/pub/big.bin`, '-o', '/dev/null', '--max-time', '90'], { timeoutMs: 100_000 });
  const desktop = await browser.newContext({ viewport: DESKTOP, extraHTTPHeaders: AUTH });
  const phone = await browser.newContext({ ...PHONE, extraHTTPHeaders: AUTH });
  try {
    await idle.login('alice', 'secret');
    assert.equal((await idle.cmd('CWD /reports')).code, 250);
    const { page, watched } = await open(desktop, url);
    const row = await rowSelector(bigRow(page));
    await growsOnScreen(page, row);
    assert.equal(await page.textContent(`${row} td.address`), '127.0.0.1');
    assert.equal(await page.textContent(`${row} td.protocol`), 'ftpplain');
    const alice = page.locator('#sessions-body tr', { has: page.locator('td.user', { hasText: /^alice$/ }) });
    assert.equal(await alice.locator('td.cwd').textContent(), '/reports');
    assert.equal(await alice.locator('td.file').textContent(), '—');
    assert.equal(await page.locator('#bans-body tr[data-address="203.0.113.7"]').count(), 1);
    assert.equal(await page.locator('#transfers-body td.path', { hasText: '/reports/q3 <draft>.pdf' }).count(), 1, 'a name with markup characters shows as text');
    await phoneWidth(phone, url);
    if (SCREENSHOTS) await screenshot(page, 'admin-desktop.png');

    // Disconnect from the page: the client's transfer ends, the row goes, the page says so.
    const clicked = Date.now();
    await page.click(`${row} button.disconnect`);
    const r: RunResult = await download;
    assert.ok(!r.timedOut && r.code !== 0 && r.code !== 28, `curl ended by the disconnect: ${describe(r)}`);
    assert.ok(Date.now() - clicked < 10_000, 'promptly');
    await page.locator(row).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.textContent('#sessions-msg'), `Session ${/\d+/.exec(row)?.[0]} disconnected.`);
    await page.locator('#transfers-body tr', { hasText: 'big.bin' }).locator('td.result', { hasText: 'failed' }).waitFor({ timeout: 10_000 });
    assert.equal(await alice.count(), 1, 'the other session stays');
    assert.ok(await notReloaded(page), 'the page was never reloaded');
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(watched.problems(), []);
  } finally {
    idle.close();
    await phone.close();
    await desktop.close();
    await download.catch(() => undefined);
  }
});

/** Waits for a row, then a selector that finds it by its session id. */
async function rowSelector(row: Locator): Promise<string> {
  await row.waitFor({ timeout: 15_000 });
  const id = await row.getAttribute('data-id');
  assert.match(id ?? '', /^\d+$/);
  return `#sessions-body tr[data-id="${id}"]`;
}

/**
 * The transfer's bytes, on screen, grow between two reads, and its rate is
 * shown. A progress bar shows when the server reports the size; the
 * crafted-snapshot test below checks the bar itself. (The FTP room counts a
 * throttled download in the 1 MiB chunks read from the file, so its bytes
 * move every few seconds: hence 20 s.)
 */
async function growsOnScreen(page: Page, row: string): Promise<void> {
  const bytesSel = `${row} td.progress .bytes`;
  const first = { n: Number(await page.getAttribute(bytesSel, 'data-bytes')), text: (await page.textContent(bytesSel)) ?? '' };
  assert.match(first.text, /^[\d.]+ [KMG]?i?B( of 16\.0 MiB \(\d+%\))?$/);
  await page.waitForFunction(
    ([sel, n, text]) => {
      const e = document.querySelector(sel);
      return e !== null && Number(e.getAttribute('data-bytes')) > n && e.textContent !== text;
    },
    [bytesSel, first.n, first.text] as const,
    { timeout: 20_000 },
  );
  const bar = page.locator(`${row} progress`);
  if (await bar.isVisible()) assert.equal(await bar.getAttribute('max'), String(BIG));
  await page.waitForFunction((sel) => /iB\/s$/.test(document.querySelector(sel)?.textContent ?? ''), `${row} td.rate`, { timeout: 10_000 });
  const text = (await page.textContent(`${row} td.rate`)) ?? '';
  const kib = Number(/([\d.]+) /.exec(text)?.[1]) * (text.includes('MiB') ? 1024 : 1);
  assert.ok(kib >= 16 && kib <= 2048, `a plausible rate for ${RATE / 1024} KiB/s: ${text}`);
}

/** At 390 px the page does not scroll sideways (the tables scroll in their boxes); a screenshot when asked. */
async function phoneWidth(context: BrowserContext, url: string): Promise<void> {
  const { page, watched } = await open(context, url);
  await bigRow(page).waitFor({ timeout: 10_000 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width} px wide on a 390 px screen`);
  if (SCREENSHOTS) await screenshot(page, 'admin-phone.png');
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(watched.problems(), []);
  await page.close();
}

/** A full-page screenshot once the chart has a few samples of the download. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.waitForFunction(() => Number(document.querySelector('#chart svg')?.getAttribute('data-samples')) >= 4, undefined, { timeout: 20_000 });
  await fs.mkdir(SHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SHOT_DIR, name), fullPage: true });
}

/** A snapshot with hostile names and known numbers, for the page to render. */
function craftedSnapshot(now: number): unknown {
  const MiB = 1024 * 1024;
  const transfer = { path: '/pub/<img src=x onerror=alert(1)>.iso', direction: 'download', bytes: 3 * MiB, size: 12 * MiB };
  return {
    now,
    sessions: [
      {
        id: 7,
        user: '<b>eve</b>',
        anonymous: false,
        address: '2001:db8::1',
        protocol: 'ftps',
        secure: true,
        cwd: '/<script>x</script>',
        connectedAt: now - 3_700_000,
        idleSeconds: 75,
        transfer,
      },
      { id: 8, user: null, anonymous: false, address: '192.0.2.1', protocol: 'sftp', secure: true, cwd: '/', connectedAt: now - 5000, idleSeconds: 5, transfer: null },
    ],
    transfers: [
      {
        at: now - 1000,
        user: '"q"&amp;',
        address: '192.0.2.9',
        protocol: 'http',
        direction: 'upload',
        path: '/incoming/<svg onload=alert(1)>',
        bytes: 1536,
        seconds: 0.25,
        ok: false,
      },
    ],
    bans: [{ address: '198.51.100.1', until: now + 600_000 }],
    throughput: Array.from({ length: 30 }, (_, i) => ({ at: now - (29 - i) * 2000, in: i * 50_000, out: 3 * MiB })),
  };
}

test('Chromium: data is shown as text, never markup; progress, badges, durations and the chart axis in human units', async (t) => {
  const { url } = await adminServer(t);
  const snap = JSON.stringify(craftedSnapshot(Date.now()));
  const context = await browser.newContext({ viewport: DESKTOP, extraHTTPHeaders: AUTH });
  try {
    await context.route('**/api/stream', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: `data: ${snap}\n\n` }));
    await context.route('**/api/status', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: snap }));
    // An alert() from the data would be a dialog; the context sees those of every page from the start.
    const dialogs: string[] = [];
    context.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const { page, watched } = await open(context, url);
    const eve = '#sessions-body tr[data-id="7"]';
    await page.locator(eve).waitFor({ timeout: 10_000 });
    assert.equal(await page.textContent(`${eve} td.user`), '<b>eve</b>');
    assert.equal(await page.textContent(`${eve} td.cwd`), '/<script>x</script>');
    assert.equal(await page.textContent(`${eve} td.file`), '↓ <img src=x onerror=alert(1)>.iso');
    assert.equal(await page.textContent(`${eve} td.protocol`), 'ftpsTLS');
    assert.equal(await page.textContent(`${eve} td.idle`), '1 min 15 s');
    assert.equal(await page.textContent(`${eve} .bytes`), '3.00 MiB of 12.0 MiB (25%)');
    assert.equal(await page.getAttribute(`${eve} progress`, 'max'), String(12 * 1024 * 1024));
    assert.equal(await page.$eval(`${eve} progress`, (p) => (p as HTMLProgressElement).value), 3 * 1024 * 1024);
    assert.equal(await page.textContent('#sessions-body tr[data-id="8"] td.user'), '—');
    assert.equal(await page.textContent('#sessions-body tr[data-id="8"] td.protocol'), 'sftpSSH');
    const failed = page.locator('#transfers-body tr').first();
    assert.deepEqual(
      await failed
        .locator('td')
        .allTextContents()
        .then((c) => c.slice(1)),
      ['"q"&amp;', '192.0.2.9', 'http', 'upload', '/incoming/<svg onload=alert(1)>', '1.50 KiB', '0.3 s', 'failed'],
    );
    assert.match((await page.textContent('#bans-body tr[data-address="198.51.100.1"] td.until')) ?? '', /\(in 10 min 00 s\)$/);
    // Nothing from the data became an element: one script (the page's), no img, b or svg outside the chart.
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('script, img, b, svg')].map((e) => e.tagName.toLowerCase() + (e.closest('#chart') ? '#chart' : ''))), [
      'svg#chart',
      'script',
    ]);
    // The chart: one line per direction through every sample, the axis in bytes per second with units, the minutes back to now.
    assert.deepEqual(await page.$$eval('#chart polyline', (ls) => ls.map((l) => `${l.getAttribute('class')} ${(l.getAttribute('points') ?? '').split(' ').length}`)), [
      'line out 30',
      'line in 30',
    ]);
    const labels = await page.$$eval('#chart text', (ts) => ts.map((x) => x.textContent));
    assert.ok(labels.includes('0') && labels.some((l) => /^[\d.]+ MiB\/s$/.test(l ?? '')), labels.join(' | '));
    assert.ok(labels.includes('now') && labels.includes('−5 min'), labels.join(' | '));
    assert.equal(await page.textContent('#rate-out'), '3.00 MiB/s');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(watched.problems(), []);
  } finally {
    await context.close();
  }
});

test('Chromium: a ban added from the page is in GET /api/bans, Lift removes it; a bad address gets the server’s message', async (t) => {
  const { url } = await adminServer(t);
  const context = await browser.newContext({ viewport: DESKTOP, extraHTTPHeaders: AUTH });
  try {
    const { page, watched } = await open(context, url);
    await page.locator('#bans-empty').waitFor({ state: 'visible', timeout: 10_000 });
    await page.fill('#ban-address', '198.51.100.23');
    await page.click('#ban-add');
    const v4 = page.locator('#bans-body tr[data-address="198.51.100.23"]');
    await v4.waitFor({ timeout: 10_000 });
    assert.match((await page.textContent('#bans-msg')) ?? '', /^Banned 198\.51\.100\.23 until /);
    assert.deepEqual(await bannedAddresses(url), ['198.51.100.23']);
    // Enter in the field works too; an IPv6 address goes through the URL of its Lift.
    await page.fill('#ban-address', '2001:db8::7');
    await page.press('#ban-address', 'Enter');
    const v6 = page.locator('#bans-body tr[data-address="2001:db8::7"]');
    await v6.waitFor({ timeout: 10_000 });
    assert.deepEqual((await bannedAddresses(url)).sort(), ['198.51.100.23', '2001:db8::7']);

    await v4.locator('button.lift').click();
    await v4.waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.textContent('#bans-msg'), 'Lifted the ban on 198.51.100.23.');
    await v6.locator('button.lift').click();
    await v6.waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual(await bannedAddresses(url), []);

    await page.fill('#ban-address', 'not-an-ip');
    await page.click('#ban-add');
    await page.locator('#bans-msg.bad').waitFor({ timeout: 10_000 });
    assert.equal(await page.textContent('#bans-msg'), 'Could not ban not-an-ip: address must be an IPv4 or IPv6 address');
    assert.ok(await notReloaded(page));
    assert.deepEqual(await violations(page), []);
    // The refused ban is the only error: its 400 (which Chromium also logs).
    assert.deepEqual(watched.problems(/HTTP 400: .*\/api\/bans$|status of 400/), []);
  } finally {
    await context.close();
  }
});

test('Chromium: when the stream fails the page polls /api/status every 2 s and still shows sessions', async (t) => {
  // 64 KiB at 16 KiB/s: a download of about four seconds, two polls or more.
  const { srv, url } = await adminServer(t, { anonymous: { max_rate: 16 * 1024 } });
  const context = await browser.newContext({ viewport: DESKTOP, extraHTTPHeaders: AUTH });
  try {
    await context.route('**/api/stream', (route) => route.abort());
    const { page, watched } = await open(context, url);
    await page.locator('#conn.polling').waitFor({ timeout: 10_000 });
    await page.locator('#sessions-empty').waitFor({ state: 'visible', timeout: 10_000 });
    // A session opened now shows up through the polls alone.
    const got = curl([`ftp://127.0.0.1:${srv.port}/pub/data.bin`, '-o', '/dev/null']);
    try {
      await page.locator('#sessions-body tr', { has: page.locator('td.file', { hasText: 'data.bin' }) }).waitFor({ timeout: 10_000 });
    } finally {
      assert.equal((await got).code, 0);
    }
    assert.ok(await notReloaded(page));
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(watched.problems(/\/api\/stream net::ERR_FAILED|Failed to load resource: net::ERR_FAILED/), []);
  } finally {
    await context.close();
  }
});

test('Chromium: without the Authorization header the page is a 401 with a Bearer challenge', async (t) => {
  const { url } = await adminServer(t);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const res = await page.goto(`${url}/`);
    assert.equal(res?.status(), 401);
    assert.match(res?.headers()['www-authenticate'] ?? '', /^Bearer /);
    assert.doesNotMatch(await page.content(), /Wharf status/);
  } finally {
    await context.close();
  }
  for (const p of ['/api/status', '/api/stream']) {
    const r = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', `${url}${p}`]);
    assert.equal(r.stdout.toString(), '401', p);
  }
});
