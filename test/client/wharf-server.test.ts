/** The client library, CLI and shell against Wharf's own server (test/helpers/server.ts). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, fromBuffer, mirrorDown, mirrorUp, toBuffer, FtpReplyError, type FtpClient } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { bytes, makeCert, makeTree, readTree, runCli, sha256, tempDir } from '../helpers/peers.js';

const BIG = bytes(1_200_000, 21);

describe('client against the Wharf server', () => {
  let srv: TestServer;
  let url: string;
  let alice: FtpClient;
  let work: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    work = await tempDir();
    srv = await startServer();
    url = `ftp://127.0.0.1:${srv.port}`;
    await makeTree(srv.root, { 'pub/big.bin': BIG, 'pub/f1.txt': 'f1', 'pub/f2.txt': 'f2', 'pub/a1.txt': 'a1', 'pub/tree/x/y.txt': 'y' });
    alice = await connect(url, { user: 'alice', password: 'secret', timeout: 10_000 });
  });
  after(async () => {
    await alice?.close();
    await srv?.close();
    await work?.cleanup();
  });

  test('anonymous: list, size, lastModified, download with the exact bytes, passive and active', async () => {
    const anon = await connect(url);
    try {
      const names = (await anon.list('pub')).map((e) => e.name).sort();
      assert.deepEqual(names, ['a1.txt', 'big.bin', 'data.bin', 'f1.txt', 'f2.txt', 'tree']);
      assert.equal(await anon.size('pub/big.bin'), BIG.length);
      const mtime = (await fs.promises.stat(path.join(srv.root, 'pub/big.bin'))).mtimeMs;
      assert.ok(Math.abs((await anon.lastModified('pub/big.bin')).getTime() - mtime) < 1000);
      for (const passive of [true, false]) {
        anon.passive = passive;
        const sink = toBuffer();
        assert.equal(await anon.download('pub/big.bin', sink), BIG.length);
        assert.equal(sha256(sink.data()), sha256(BIG));
      }
      const forced = await anon.list('pub', { forceList: true });
      assert.equal(forced.find((e) => e.name === 'big.bin')?.size, BIG.length);
      assert.equal(forced.find((e) => e.name === 'tree')?.type, 'directory');
      await assert.rejects(anon.remove('pub/f1.txt'), (e: unknown) => e instanceof FtpReplyError && e.code >= 500);
    } finally {
      await anon.close();
    }
  });

  test('alice: mkdir -p, upload, append, resume, rename, remove, removeDir -r', async () => {
    await alice.mkdir('a/b/c', { recursive: true });
    await alice.mkdir('a/b/c', { recursive: true });
    await alice.upload(fromBuffer('hello '), 'a/b/c/h.txt');
    await alice.append(fromBuffer('world'), 'a/b/c/h.txt');
    assert.equal(await fs.promises.readFile(path.join(srv.aliceHome, 'a/b/c/h.txt'), 'utf8'), 'hello world');
    const local = path.join(work.dir, 'big.bin');
    await fs.promises.writeFile(local, BIG);
    await alice.upload(local, 'big.bin');
    assert.equal(sha256(await fs.promises.readFile(path.join(srv.aliceHome, 'big.bin'))), sha256(BIG));
    const down = path.join(work.dir, 'resumed.bin');
    await fs.promises.writeFile(down, BIG.subarray(0, 400_000));
    await alice.download('big.bin', down, { offset: 400_000 });
    assert.equal(sha256(await fs.promises.readFile(down)), sha256(BIG));
    await alice.rename('big.bin', 'a/moved.bin');
    assert.equal(await alice.size('a/moved.bin'), BIG.length);
    await alice.remove('a/moved.bin');
    await alice.cd('a');
    assert.equal(await alice.pwd(), '/a');
    await alice.cd('..');
    await alice.removeDir('a', { recursive: true });
    assert.deepEqual(await fs.promises.readdir(srv.aliceHome), []);
  });

  test('mirror down and up with 3 connections; second runs transfer nothing', async () => {
    await makeTree(path.join(work.dir, 'src'), { 'one.txt': '1', 'd/two.bin': bytes(300_000, 2), 'd/e/three.txt': '3' });
    const up = await mirrorUp(alice, path.join(work.dir, 'src'), 'tree', { parallel: 3 });
    assert.equal(up.transferred.length, 3);
    assert.deepEqual(await readTree(path.join(srv.aliceHome, 'tree')), await readTree(path.join(work.dir, 'src')));
    assert.equal((await mirrorUp(alice, path.join(work.dir, 'src'), 'tree', { parallel: 3 })).transferred.length, 0);
    const back = path.join(work.dir, 'back');
    const down = await mirrorDown(alice, 'tree', back, { parallel: 3 });
    assert.equal(down.transferred.length, 3);
    assert.deepEqual(await readTree(back), await readTree(path.join(work.dir, 'src')));
    assert.equal((await mirrorDown(alice, 'tree', back, { parallel: 3 })).transferred.length, 0);
  });

  test('CLI get (exact bytes, glob), ls, and put into the anonymous drop box', async () => {
    const cwd = path.join(work.dir, 'cli');
    await fs.promises.mkdir(cwd);
    let r = await runCli(['get', `${url}/pub/big.bin`], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'big.bin'))), sha256(BIG));
    r = await runCli(['get', `${url}/pub/f*`, 'fs'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await fs.promises.readdir(path.join(cwd, 'fs'))).sort(), ['f1.txt', 'f2.txt']);
    r = await runCli(['ls', '--names', `${url}/pub/`], { cwd });
    assert.match(r.stdout, /^big\.bin$/m);
    await fs.promises.writeFile(path.join(cwd, 'drop.txt'), 'dropped');
    r = await runCli(['put', 'drop.txt', `${url}/incoming/`], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fs.promises.readFile(path.join(srv.root, 'incoming/drop.txt'), 'utf8'), 'dropped');
    r = await runCli(['get', `${url}/pub/nothing-here`], { cwd });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^wharf: RETR pub\/nothing-here: 550 /);
  });

  test('shell session: mget f*, dir a* out.txt', async () => {
    const cwd = path.join(work.dir, 'shell');
    await fs.promises.mkdir(cwd);
    const r = await runCli(['shell', '--verbose'], { cwd, input: `open 127.0.0.1 ${srv.port}\nuser anonymous me@example.com\ncd pub\nprompt\nmget f*\ndir a* out.txt\nbye\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Connected to 127\.0\.0\.1\.\n220[ -]/);
    assert.match(r.stdout, /^230[ -]/m);
    assert.match(r.stdout, /^221[ -]/m);
    assert.equal(await fs.promises.readFile(path.join(cwd, 'f1.txt'), 'utf8'), 'f1');
    assert.equal(await fs.promises.readFile(path.join(cwd, 'f2.txt'), 'utf8'), 'f2');
    const lines = (await fs.promises.readFile(path.join(cwd, 'out.txt'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /a1\.txt$/);
  });
});

describe('client against the Wharf server with TLS', () => {
  let srv: TestServer;
  let work: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    work = await tempDir();
    const cert = await makeCert(work.dir);
    srv = await startServer({ tls: { cert: cert.cert, key: cert.key } });
  });
  after(async () => {
    await srv?.close();
    await work?.cleanup();
  });

  test('explicit TLS with -k: download and upload, passive and active', async () => {
    const client = await connect(`ftp://127.0.0.1:${srv.port}`, { user: 'alice', password: 'secret', secure: true, insecure: true, timeout: 10_000 });
    try {
      assert.equal(client.secure, true);
      for (const passive of [true, false]) {
        client.passive = passive;
        await client.upload(fromBuffer(BIG), `x-${passive}.bin`);
        const sink = toBuffer();
        await client.download(`x-${passive}.bin`, sink);
        assert.equal(sha256(sink.data()), sha256(BIG));
      }
    } finally {
      await client.close();
    }
    const r = await runCli(['get', '--tls', `ftp://127.0.0.1:${srv.port}/hello.txt`, '-']);
    assert.notEqual(r.code, 0, 'the self-signed certificate is refused without -k');
    const ok = await runCli(['get', '--tls', '-k', `ftp://127.0.0.1:${srv.port}/hello.txt`, '-']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Hello, world!\n');
  });
});
