/**
 * A prefix with 2,500 objects and 20 sub-prefixes, made directly in the
 * S3 server's store (as another S3 client would have: no markers), listed
 * through Wharf: S3Vfs yields one batch per ListObjectsV2 page (S3 pages
 * hold at most 1,000 keys), and FTP
 * MLSD (basic-ftp), LIST and NLST (curl) show every entry once, with the
 * sizes from the listing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'basic-ftp';
import { startServer, secretHash } from '../helpers/server.js';
import { curl, describe } from '../helpers/clients.js';
import { s3Overrides, startS3, type S3Server } from '../helpers/s3.js';
import { S3Vfs } from '../../src/vfs/s3/s3Vfs.js';

const FILES = 2500;
const DIRS = 20;
let s3: S3Server;

const fileName = (i: number) => `file-${String(i).padStart(5, '0')}.dat`;

before(async () => {
  s3 = await startS3('wharf-listing');
  // Written into the store directly (S3Server.seed), grouped by content: file i holds i % 97 bytes.
  for (let size = 0; size < 97; size++) {
    const names = Array.from({ length: FILES }, (_, i) => i).filter((i) => i % 97 === size);
    s3.seed('big/pub/many/', names.map(fileName), 'x'.repeat(size));
  }
  for (let i = 0; i < DIRS; i++) s3.seed(`big/pub/many/sub-${String(i).padStart(2, '0')}/`, ['inner.txt'], 'inner');
});

after(async () => {
  await s3.stop();
});

function expectedNames(): string[] {
  return [...Array.from({ length: FILES }, (_, i) => fileName(i)), ...Array.from({ length: DIRS }, (_, i) => `sub-${String(i).padStart(2, '0')}`)].sort();
}

test('S3Vfs.list: one batch per page of ListObjectsV2, every entry once', async () => {
  const vfs = S3Vfs.fromUrl(`s3://${s3.bucket}/big/pub`, { settings: s3.settings });
  try {
    const sizes: number[] = [];
    const names: string[] = [];
    for await (const batch of vfs.list('/many')) {
      sizes.push(batch.length);
      names.push(...batch.map((e) => e.name));
    }
    assert.ok(sizes.length >= 3, `pages: ${sizes.join(', ')}`);
    assert.ok(
      sizes.every((n) => n <= 1000 + DIRS),
      `a batch is one page: ${sizes.join(', ')}`,
    );
    assert.deepEqual(names.sort(), expectedNames());
  } finally {
    await vfs.close();
  }
});

test('FTP MLSD, LIST and NLST of a 2,520-entry S3 prefix', async (t) => {
  const srv = await startServer(s3Overrides(s3, 'big', await secretHash()));
  t.after(() => srv.close());
  const client = new Client(30_000);
  t.after(() => client.close());
  await client.access({ host: '127.0.0.1', port: srv.port, user: 'anonymous', password: 'guest@example.com' });
  const mlsd = await client.list('/many');
  assert.equal(mlsd.length, FILES + DIRS);
  assert.deepEqual(mlsd.map((e) => e.name).sort(), expectedNames());
  const byName = new Map(mlsd.map((e) => [e.name, e]));
  assert.equal(byName.get(fileName(96))?.size, 96);
  assert.equal(byName.get(fileName(97))?.size, 0);
  assert.equal(byName.get('sub-07')?.isDirectory, true);
  client.close();

  let r = await curl([`ftp://127.0.0.1:${srv.port}/many/`]);
  assert.equal(r.code, 0, describe(r));
  const lines = r.stdout.toString().split(/\r?\n/).filter(Boolean);
  assert.equal(lines.length, FILES + DIRS);
  assert.equal(lines.filter((l) => l.startsWith('d')).length, DIRS);
  r = await curl(['-l', `ftp://127.0.0.1:${srv.port}/many/`]);
  assert.deepEqual(r.stdout.toString().split(/\r?\n/).filter(Boolean).sort(), expectedNames());
});
