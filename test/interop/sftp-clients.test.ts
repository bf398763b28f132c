/**
 * Interop: lftp's `sftp://` (which drives OpenSSH's ssh) and curl's
 * `sftp://` (libssh2) against Wharf's SFTP room. The host key here is made
 * by the real `wharf gen-hostkey`, and curl checks that it is the key the
 * server presents.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bytes, describe, makeTree, readTree, sha256, tempDir } from '../helpers/clients.js';
import { curlSftp, fingerprint, lftpSftp, startSftp, wharfHostKey, type KeyPair } from '../helpers/sftp.js';

let host: KeyPair;
let cleanupKeys: () => Promise<void>;
before(async () => {
  const { dir, cleanup } = await tempDir('wharf-sftp-keys-');
  cleanupKeys = cleanup;
  host = await wharfHostKey(dir);
});
after(() => cleanupKeys());

test('lftp sftp://: put and get 1 MiB byte-exact, cls -l, mv and rm', async (t) => {
  const { srv, port, tmp } = await startSftp(t, host.key);
  const data = bytes(1024 * 1024 + 5, 61);
  const src = path.join(tmp, 'up.bin');
  await fs.writeFile(src, data);
  const back = path.join(tmp, 'back.bin');
  const r = await lftpSftp(port, 'alice', 'secret', `put ${src} -o up.bin; cls -l; get up.bin -o ${back}; mv up.bin moved.bin; put ${src} -o gone.bin; rm gone.bin; cls -1`);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(await fs.readFile(back)), sha256(data));
  assert.deepEqual(await fs.readdir(srv.aliceHome), ['moved.bin']);
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'moved.bin'))), sha256(data));
  const out = r.stdout.toString('utf8');
  assert.match(out, /^-rw-r--r--\s+1\s+\S+\s+\S+\s+1048581 .* up\.bin$/m, out);
  assert.match(out, /^moved\.bin$/m, out);
});

test('lftp sftp://: mirror -R uploads a tree, mirror downloads it again, both identical', async (t) => {
  const { srv, port, tmp } = await startSftp(t, host.key);
  const tree = path.join(tmp, 'tree');
  await makeTree(tree, {
    'a.txt': 'alpha\n',
    'empty.txt': '',
    'sub/b.bin': bytes(200_000, 62),
    'sub/deeper/c.txt': 'gamma\n',
    'other dir/d e.txt': 'spaces\n',
  });
  const copy = path.join(tmp, 'copy');
  const r = await lftpSftp(port, 'alice', 'secret', `mirror -R ${tree} tree; mirror tree ${copy}`);
  assert.equal(r.code, 0, describe(r));
  const want = await readTree(tree);
  assert.deepEqual(await readTree(path.join(srv.aliceHome, 'tree')), want);
  assert.deepEqual(await readTree(copy), want);
});

test('lftp sftp://: anonymous reads the archive, a wrong password fails', async (t) => {
  const { srv, port, tmp } = await startSftp(t, host.key);
  const out = path.join(tmp, 'data.bin');
  const r = await lftpSftp(port, 'anonymous', 'guest@example.org', `cls -1; get pub/data.bin -o ${out}; cat hello.txt`);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(await fs.readFile(out)), sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
  assert.match(r.stdout.toString('utf8'), /^hello\.txt\nincoming\/\npub\/\nHello, world!\n$/, describe(r));
  const bad = await lftpSftp(port, 'alice', 'wrong', 'cls -1', { timeoutMs: 30_000 });
  assert.notEqual(bad.code, 0, describe(bad));
  assert.equal(bad.timedOut, false, describe(bad));
});

test('curl sftp://: get 5 MiB byte-exact (pipelined reads need full-length replies), upload with -T, list a directory', async (t) => {
  const { srv, port, tmp } = await startSftp(t, host.key);
  const data = bytes(5 * 1024 * 1024 + 3, 63);
  await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), data);
  const got = path.join(tmp, 'got.bin');
  const get = await curlSftp(port, 'alice', 'secret', 'big.bin', ['-o', got]);
  assert.equal(get.code, 0, describe(get));
  assert.equal(sha256(await fs.readFile(got)), sha256(data));

  const up = bytes(3 * 1024 * 1024 + 11, 64);
  const src = path.join(tmp, 'up.bin');
  await fs.writeFile(src, up);
  const put = await curlSftp(port, 'alice', 'secret', 'dir/up.bin', ['-T', src, '--ftp-create-dirs']);
  assert.equal(put.code, 0, describe(put));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'dir', 'up.bin'))), sha256(up));

  const ls = await curlSftp(port, 'alice', 'secret', '/');
  assert.equal(ls.code, 0, describe(ls));
  const lines = ls.stdout.toString('utf8');
  assert.match(lines, /^-rw-r--r--\s+1\s+\S+\s+\S+\s+5242883 .* big\.bin$/m, lines);
  assert.match(lines, /^drwx.* dir$/m, lines);
});

test('curl sftp://: the host key is the one gen-hostkey wrote (--hostpubsha256); a wrong one or a wrong password fails', async (t) => {
  const { srv, port } = await startSftp(t, host.key);
  const right = await curlSftp(port, 'anonymous', 'me@example.org', 'hello.txt', ['--hostpubsha256', fingerprint(host.pub)]);
  assert.equal(right.code, 0, describe(right));
  assert.equal(right.stdout.toString('utf8'), await fs.readFile(path.join(srv.root, 'hello.txt'), 'utf8'));
  const wrongKey = await curlSftp(port, 'anonymous', 'me@example.org', 'hello.txt', ['--hostpubsha256', fingerprint(`ssh-ed25519 ${Buffer.alloc(51).toString('base64')}`)]);
  assert.notEqual(wrongKey.code, 0, describe(wrongKey));
  const wrongPass = await curlSftp(port, 'alice', 'wrong', 'hello.txt');
  assert.equal(wrongPass.code, 67, describe(wrongPass));
});

test('curl sftp://: -Q rename and rm, a resumed upload (-C -) completes byte-exact', async (t) => {
  const { srv, port, tmp } = await startSftp(t, host.key);
  await fs.writeFile(path.join(srv.aliceHome, 'a.txt'), 'A\n');
  await fs.writeFile(path.join(srv.aliceHome, 'b.txt'), 'B\n');
  const q = await curlSftp(port, 'alice', 'secret', '/', ['-Q', 'rename a.txt c.txt', '-Q', 'rm b.txt', '-o', '/dev/null']);
  assert.equal(q.code, 0, describe(q));
  assert.deepEqual(await fs.readdir(srv.aliceHome), ['c.txt']);
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'c.txt'), 'utf8'), 'A\n');

  const data = bytes(2 * 1024 * 1024, 65);
  const src = path.join(tmp, 'resume.bin');
  await fs.writeFile(src, data);
  await fs.writeFile(path.join(srv.aliceHome, 'resume.bin'), data.subarray(0, 700_001));
  const put = await curlSftp(port, 'alice', 'secret', 'resume.bin', ['-T', src, '-C', '-']);
  assert.equal(put.code, 0, describe(put));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'resume.bin'))), sha256(data));
});
