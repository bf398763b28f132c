/**
 * The other doors on `s3://` storage: OpenSSH `sftp -b` on an S3 home
 * (put and get byte-exact across several parts, ls, mkdir, rename, rm,
 * rmdir, a resumed upload with `reput`), and the web view on an S3
 * anonymous root (a directory page, a whole download, Range requests).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, secretHash } from '../helpers/server.js';
import { bytes, describe, sha256, tempDir } from '../helpers/clients.js';
import { curl } from '../helpers/http.js';
import { makeKeys, sftpBatch, type TestKeys } from '../helpers/sftp.js';
import { MiB, s3Overrides, startS3, type S3Server } from '../helpers/s3.js';
import { S3Vfs } from '../../src/vfs/s3/s3Vfs.js';
import { putFile } from '../../src/vfs/contract/files.js';

let s3: S3Server;
let keys: TestKeys;

before(async () => {
  [s3, keys] = await Promise.all([startS3('wharf-doors'), makeKeys()]);
});

after(async () => {
  await Promise.all([s3.stop(), keys.cleanup()]);
});

test('OpenSSH sftp on an s3 home: put/get 12 MiB byte-exact, ls, mkdir, rename, reput, rm, rmdir', async (t) => {
  const overrides = { ...s3Overrides(s3, 'sftp', await secretHash()), sftp: { port: 0, host_keys: [keys.host.key] } };
  const srv = await startServer(overrides);
  t.after(() => srv.close());
  const port = srv.server.addresses.sftp?.port ?? 0;
  const { dir, cleanup } = await tempDir('wharf-s3-sftp-');
  t.after(cleanup);
  const data = bytes(12 * MiB + 11, 21);
  await fs.writeFile(path.join(dir, 'big.bin'), data);
  await fs.writeFile(path.join(dir, 'head.bin'), data.subarray(0, 7 * MiB));
  const login = { user: 'alice', password: 'secret' };
  let r = await sftpBatch(port, login, [
    'mkdir d',
    `put ${path.join(dir, 'big.bin')} d/big.bin`,
    'ls -l d',
    'rename d/big.bin d/renamed.bin',
    `get d/renamed.bin ${path.join(dir, 'back.bin')}`,
    `put ${path.join(dir, 'head.bin')} d/resumed.bin`,
    `reput ${path.join(dir, 'big.bin')} d/resumed.bin`,
    `get d/resumed.bin ${path.join(dir, 'resumed.bin')}`,
  ]);
  assert.equal(r.code, 0, describe(r));
  assert.match(r.stdout.toString(), / 12582923 .* big\.bin$/m, describe(r));
  assert.equal(sha256(await fs.readFile(path.join(dir, 'back.bin'))), sha256(data));
  assert.equal(sha256(await fs.readFile(path.join(dir, 'resumed.bin'))), sha256(data), 'reput (an offset write) completed the file');
  assert.deepEqual(await s3.keys('sftp/alice/'), ['sftp/alice/d/', 'sftp/alice/d/renamed.bin', 'sftp/alice/d/resumed.bin']);
  r = await sftpBatch(port, login, ['-rmdir d', 'rm d/renamed.bin', 'rm d/resumed.bin', 'rmdir d', 'ls -la']);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await s3.keys('sftp/alice/'), []);
  assert.deepEqual(await s3.uploads('sftp/'), []);
});

test('the web view on an s3 root: directory page, download, Range requests', async (t) => {
  const data = bytes(3 * MiB + 5, 31);
  const seed = S3Vfs.fromUrl(`s3://${s3.bucket}/web/pub`, { settings: s3.settings });
  await seed.mkdir('/files');
  await putFile(seed, '/files/data.bin', data);
  await seed.close();
  const srv = await startServer({ ...s3Overrides(s3, 'web', await secretHash()), http: { port: 0 } });
  t.after(() => srv.close());
  const url = `http://127.0.0.1:${srv.server.addresses.http?.port}`;
  let r = await curl([`${url}/files/`]);
  assert.equal(r.code, 0, describe(r));
  assert.match(r.stdout.toString(), /href="data\.bin"/);
  r = await curl([`${url}/files/data.bin`]);
  assert.equal(sha256(r.stdout), sha256(data));
  r = await curl(['-i', '-r', '1000000-1000099', `${url}/files/data.bin`]);
  const text = r.stdout.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 206/);
  assert.match(text, new RegExp(`Content-Range: bytes 1000000-1000099/${data.length}`, 'i'));
  assert.ok(r.stdout.subarray(r.stdout.length - 100).equals(data.subarray(1000000, 1000100)), 'the range bytes');
  r = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-r', `${data.length + 10}-`, `${url}/files/data.bin`]);
  assert.equal(r.stdout.toString(), '416');
});
