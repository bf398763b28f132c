/** Every library call against pyftpdlib on loopback (MLSD, then LIST fallback; passive and active). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, fromBuffer, toBuffer, FtpAbortError, FtpConnectionClosedError, FtpReplyError, type FtpClient, type TransferProgress } from '../../src/index.js';
import { bytes, makeTree, sha256, startPyftpdlib, tempDir, type Peer } from '../helpers/peers.js';

const BIG = bytes(3_000_000, 7);

for (const variant of [
  { name: 'MLSD, passive', mlsd: true, passive: true },
  { name: 'LIST, active', mlsd: false, passive: false },
]) {
  describe(`library against pyftpdlib (${variant.name})`, () => {
    let peer: Peer;
    let work: { dir: string; cleanup: () => Promise<void> };
    let client: FtpClient;
    let root: string;

    before(async () => {
      work = await tempDir();
      root = path.join(work.dir, 'root');
      await makeTree(root, {
        'readme.txt': 'hello\n',
        'pub/big.bin': BIG,
        'pub/f1.txt': 'one',
        'pub/f2.txt': 'two',
        'pub/sub/deep.txt': 'deep',
        'name with spaces.txt': 'spaces',
        'ünï.txt': 'utf8',
      });
      peer = await startPyftpdlib({ root, mlsd: variant.mlsd });
      client = await connect(peer.url, { user: 'user', password: 'secret', passive: variant.passive, timeout: 10_000 });
    });
    after(async () => {
      await client?.close();
      await peer?.close();
      await work?.cleanup();
    });

    test('connect reports the greeting and features', () => {
      assert.equal(client.greeting?.code, 220);
      assert.equal(client.loggedIn, true);
      assert.equal(client.features.has('MLST'), variant.mlsd);
      assert.equal(client.features.has('SIZE'), true);
    });

    test('pwd, cd, cd ..', async () => {
      assert.equal(await client.pwd(), '/');
      await client.cd('pub');
      assert.equal(await client.pwd(), '/pub');
      await client.cd('..');
      assert.equal(await client.pwd(), '/');
    });

    test('list parses entries with types, sizes and times', async () => {
      const list = await client.list('pub');
      const byName = new Map(list.map((e) => [e.name, e]));
      assert.deepEqual([...byName.keys()].sort(), ['big.bin', 'f1.txt', 'f2.txt', 'sub']);
      assert.equal(byName.get('big.bin')?.type, 'file');
      assert.equal(byName.get('big.bin')?.size, BIG.length);
      assert.equal(byName.get('sub')?.type, 'directory');
      const mtime = (await fs.promises.stat(path.join(root, 'pub/f1.txt'))).mtimeMs;
      const listed = byName.get('f1.txt')?.modifiedAt?.getTime() ?? 0;
      assert.ok(Math.abs(listed - mtime) < (variant.mlsd ? 1000 : 61_000), `listed time ${listed} vs ${mtime}`);
      const top = await client.list();
      assert.ok(top.some((e) => e.name === 'name with spaces.txt'));
      assert.ok(top.some((e) => e.name === 'ünï.txt'));
    });

    test('size and lastModified', async () => {
      assert.equal(await client.size('pub/big.bin'), BIG.length);
      const mtime = (await fs.promises.stat(path.join(root, 'readme.txt'))).mtimeMs;
      const remote = await client.lastModified('readme.txt');
      assert.ok(Math.abs(remote.getTime() - mtime) < 1000);
    });

    test('download to a stream and to a file, with progress', async () => {
      const sink = toBuffer();
      const events: TransferProgress[] = [];
      const n = await client.download('pub/big.bin', sink, { onProgress: (p) => events.push(p) });
      assert.equal(n, BIG.length);
      assert.equal(sha256(sink.data()), sha256(BIG));
      const last = events[events.length - 1];
      assert.equal(last?.done, true);
      assert.equal(last?.bytes, BIG.length);
      assert.equal(last?.total, BIG.length);
      assert.ok((last?.rate ?? 0) > 0);
      const file = path.join(work.dir, 'spaces.txt');
      await client.download('name with spaces.txt', file);
      assert.equal(await fs.promises.readFile(file, 'utf8'), 'spaces');
      const u = toBuffer();
      await client.download('ünï.txt', u);
      assert.equal(u.data().toString(), 'utf8');
    });

    test('a refused download throws a typed error and leaves no local file', async () => {
      const file = path.join(work.dir, 'missing.txt');
      await assert.rejects(client.download('pub/missing.txt', file), (err: unknown) => {
        assert.ok(err instanceof FtpReplyError);
        assert.equal(err.code, 550);
        assert.equal(err.command, 'RETR pub/missing.txt');
        return true;
      });
      assert.equal(fs.existsSync(file), false);
      assert.equal(await client.pwd(), '/', 'the connection stays usable');
    });

    test('interrupted download (AbortSignal) then resume with REST gives the exact bytes', async () => {
      const other = await connect(peer.url, { user: 'user', password: 'secret', passive: variant.passive });
      const file = path.join(work.dir, 'resume.bin');
      const controller = new AbortController();
      await assert.rejects(
        other.download('pub/big.bin', file, {
          signal: controller.signal,
          progressInterval: 0,
          onProgress: (p) => {
            if (p.bytes > 500_000) controller.abort();
          },
        }),
        FtpAbortError,
      );
      assert.equal(await other.pwd(), '/', 'aborting a transfer keeps the connection in step');
      await other.close();
      const partial = (await fs.promises.stat(file)).size;
      assert.ok(partial > 0 && partial < BIG.length, `partial size ${partial}`);
      const n = await client.download('pub/big.bin', file, { offset: partial });
      assert.equal(n, BIG.length - partial);
      assert.equal(sha256(await fs.promises.readFile(file)), sha256(BIG));
    });

    test('upload from a stream and a file, append, resume with REST', async () => {
      await client.mkdir('up/a/b', { recursive: true });
      await client.mkdir('up/a/b', { recursive: true });
      await client.upload(fromBuffer('first '), 'up/a/b/s.txt');
      await client.append(fromBuffer('second'), 'up/a/b/s.txt');
      assert.equal(await fs.promises.readFile(path.join(root, 'up/a/b/s.txt'), 'utf8'), 'first second');
      const local = path.join(work.dir, 'upload.bin');
      await fs.promises.writeFile(local, BIG);
      const events: TransferProgress[] = [];
      client.on('progress', (p) => events.push(p));
      assert.equal(await client.upload(local, 'up/big.bin'), BIG.length);
      client.removeAllListeners('progress');
      assert.ok(events.some((e) => e.type === 'upload' && e.done));
      assert.equal(sha256(await fs.promises.readFile(path.join(root, 'up/big.bin'))), sha256(BIG));
      // resume an upload: the server holds the first half
      await fs.promises.writeFile(path.join(root, 'up/half.bin'), BIG.subarray(0, 1_000_000));
      assert.equal(await client.upload(local, 'up/half.bin', { offset: 1_000_000 }), BIG.length - 1_000_000);
      assert.equal(sha256(await fs.promises.readFile(path.join(root, 'up/half.bin'))), sha256(BIG));
    });

    test('rename, remove, removeDir (recursive), mkdir errors', async () => {
      await client.mkdir('tree/x/y', { recursive: true });
      await client.upload(fromBuffer('1'), 'tree/x/y/1.txt');
      await client.upload(fromBuffer('2'), 'tree/x/2.txt');
      await client.rename('tree/x/2.txt', 'tree/x/3.txt');
      assert.equal(fs.existsSync(path.join(root, 'tree/x/3.txt')), true);
      await client.remove('tree/x/3.txt');
      assert.equal(fs.existsSync(path.join(root, 'tree/x/3.txt')), false);
      await assert.rejects(client.removeDir('tree'), FtpReplyError);
      await client.removeDir('tree', { recursive: true });
      assert.equal(fs.existsSync(path.join(root, 'tree')), false);
      await assert.rejects(client.mkdir('pub'), (e: unknown) => e instanceof FtpReplyError && e.code === 550);
      await assert.rejects(client.rename('nope', 'nope2'), (e: unknown) => e instanceof FtpReplyError && e.command === 'RNFR nope');
    });

    test('concurrent calls on one client are queued, not interleaved', async () => {
      const results = await Promise.all([client.size('pub/f1.txt'), client.list('pub'), client.size('pub/f2.txt'), client.download('readme.txt', toBuffer()), client.pwd()]);
      assert.equal(results[0], 3);
      assert.equal((results[1] as unknown[]).length, 4);
      assert.equal(results[2], 3);
      assert.equal(results[3], 6);
      assert.equal(results[4], '/');
    });

    test('anonymous login is the default and is read-only on this peer', async () => {
      const anon = await connect(peer.url, { passive: variant.passive });
      try {
        assert.equal(
          (await anon.list()).some((e) => e.name === 'readme.txt'),
          true,
        );
        await assert.rejects(anon.upload(fromBuffer('x'), 'nope.txt'), (e: unknown) => e instanceof FtpReplyError && e.code === 550);
      } finally {
        await anon.close();
      }
    });

    test('wrong password is a typed 530 error; commands with CR/LF are refused', async () => {
      await assert.rejects(connect(peer.url, { user: 'user', password: 'wrong' }), (e: unknown) => e instanceof FtpReplyError && e.code === 530);
      await assert.rejects(client.cd('a\r\nDELE readme.txt'), /CR, LF or NUL/);
      assert.equal(fs.existsSync(path.join(root, 'readme.txt')), true);
    });
  });
}

test('connecting to a closed port fails with a clear error; an aborted connect rejects', async () => {
  await assert.rejects(connect('ftp://127.0.0.1:1/'), FtpConnectionClosedError);
  const c = new AbortController();
  c.abort();
  await assert.rejects(connect('ftp://127.0.0.1:1/', { signal: c.signal }), FtpAbortError);
});
