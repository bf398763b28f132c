/**
 * `npm run screenshots`: the web view's root page of a small demo archive,
 * photographed by headless Chromium (Debian's `chromium`, driven by
 * playwright-core) at desktop (1280 px) and phone (390 px) widths, into
 * docs/screenshots/web-desktop.png and web-phone.png. The archive's dates
 * are fixed, so the pictures change only when the page does.
 */
import { mkdir, mkdtemp, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { createServer } from '../src/host/server.js';

const OUT = resolve(import.meta.dirname, '../../docs/screenshots');

/** Path, size in bytes (files are sparse) or null for a directory, modification date. */
const ARCHIVE: [string, number | null, string][] = [
  ['pub', null, '2025-03-02T09:14:00Z'],
  ['pub/releases', null, '2025-02-27T16:40:00Z'],
  ['mirrors', null, '2024-11-18T08:05:00Z'],
  ['docs', null, '2025-01-09T12:30:00Z'],
  ['incoming', null, '2025-03-04T21:02:00Z'],
  ['README', 1843, '2024-06-01T10:00:00Z'],
  ['wharf-1.4.2.tar.gz', 2_874_112, '2025-02-27T16:38:00Z'],
  ['wharf-1.4.2.tar.gz.asc', 833, '2025-02-27T16:39:00Z'],
  ['debian-12.9.0-amd64-netinst.iso', 662_700_032, '2025-01-11T11:22:00Z'],
  ['SHA256SUMS', 482, '2025-02-27T16:39:00Z'],
  ['ls-lR.gz', 14_337_651, '2025-03-04T04:00:00Z'],
];

const MESSAGE = `Welcome to the Example Project archive.

Releases are in /pub/releases, signed with the key in /docs/KEYS.
Uploads go to /incoming (over FTP or SFTP); they are not listed here.
`;

async function makeArchive(root: string): Promise<void> {
  for (const [path, size] of ARCHIVE) {
    const full = join(root, path);
    if (size === null) {
      await mkdir(full, { recursive: true });
    } else {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, '');
      await truncate(full, size);
    }
  }
  await writeFile(join(root, '.message'), MESSAGE);
  // Dates last: making a file touches its directory.
  for (const [path, , date] of [...ARCHIVE].reverse()) await utimes(join(root, path), new Date(date), new Date(date));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-screenshots-'));
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    anonymous: { enabled: true, root: join(dir, 'archive'), upload_dir: 'incoming' },
    http: { port: 0 },
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    await mkdir(join(dir, 'archive'));
    await makeArchive(join(dir, 'archive'));
    const { http } = await server.listen();
    if (!http) throw new Error('no web view');
    await mkdir(OUT, { recursive: true });
    const shots = [
      { file: 'web-desktop.png', viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1, isMobile: false },
      { file: 'web-phone.png', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true },
    ];
    for (const shot of shots) {
      const context = await browser.newContext({ viewport: shot.viewport, deviceScaleFactor: shot.deviceScaleFactor, isMobile: shot.isMobile, colorScheme: 'light' });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${http.port}/`);
      await page.screenshot({ path: join(OUT, shot.file), fullPage: true });
      await context.close();
      process.stdout.write(`wrote ${join(OUT, shot.file)}\n`);
    }
  } finally {
    await browser.close();
    await server.close(0);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
