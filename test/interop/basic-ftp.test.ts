/**
 * Interop: the basic-ftp npm client against a live Wharf server. basic-ftp
 * only does passive mode: EPSV by default, PASV when prepareTransfer is
 * set to enterPassiveModeIPv4.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Client, FTPError, enterPassiveModeIPv4 } from 'basic-ftp';
import { startServer, type TestServer } from '../helpers/server.js';
import { bytes, holdSessions, makeTree, readTree, sha256, tempDir } from '../helpers/clients.js';

async function setup(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; tmp: string }> {
  const srv = await startServer(overrides);
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-basicftp-');
  t.after(cleanup);
  return { srv, tmp: dir };
}

async function connect(t: TestContext, port: number, user = 'anonymous', password = 'guest@example.com'): Promise<Client> {
  const client = new Client(10_000);
  t.after(() => client.close());
  await client.access({ host: '127.0.0.1', port, user, password });
  return client;
}

/** Downloads to memory. */
async function fetch(client: Client, remote: string, startAt = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await client.downloadTo(sink, remote, startAt);
  return Buffer.concat(chunks);
}

/** The FTP reply code a rejected basic-ftp call carried. */
async function ftpCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FTPError) return e.code;
    throw e;
  }
  assert.fail('expected the server to refuse');
}

test('basic-ftp: anonymous list and download (EPSV and PASV)', async (t) => {
  const { srv, tmp } = await setup(t);
  const client = await connect(t, srv.port);
  const list = await client.list();
  const byName = new Map(list.map((f) => [f.name, f]));
  assert.deepEqual([...byName.keys()].sort(), ['hello.txt', 'incoming', 'pub']);
  assert.equal(byName.get('hello.txt')!.isFile, true);
  assert.equal(byName.get('hello.txt')!.size, 14);
  assert.equal(byName.get('pub')!.isDirectory, true);
  const want = sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin')));
  assert.equal(sha256(await fetch(client, 'pub/data.bin')), want);
  const local = path.join(tmp, 'data.bin');
  await client.downloadTo(local, 'pub/data.bin');
  assert.equal(sha256(await fs.readFile(local)), want);
  assert.equal(await client.size('pub/data.bin'), 65536);
  assert.ok((await client.lastMod('hello.txt')).getTime() > 0);

  // The same with PASV instead of EPSV.
  client.prepareTransfer = enterPassiveModeIPv4;
  assert.equal(sha256(await fetch(client, 'pub/data.bin')), want);
  const pubList = await client.list('pub');
  assert.deepEqual(
    pubList.map((f) => [f.name, f.size]),
    [['data.bin', 65536]],
  );
  assert.equal((await fetch(client, 'hello.txt')).toString('utf8'), 'Hello, world!\n');
});

test('basic-ftp: user upload, download, resume, append, rename, remove, dirs', async (t) => {
  const { srv, tmp } = await setup(t);
  const client = await connect(t, srv.port, 'alice', 'secret');
  const data = bytes(333_333, 61);
  const src = path.join(tmp, 'src.bin');
  await fs.writeFile(src, data);

  // uploadFrom a path and from a stream.
  await client.uploadFrom(src, 'up.bin');
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'up.bin'))), sha256(data));
  await client.uploadFrom(Readable.from([Buffer.from('streamed\n')]), 'stream.txt');
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'stream.txt'), 'utf8'), 'streamed\n');

  // Download, and resume a partial local file with downloadTo(path, remote, startAt).
  assert.equal(sha256(await fetch(client, 'up.bin')), sha256(data));
  const partial = path.join(tmp, 'partial.bin');
  await fs.writeFile(partial, data.subarray(0, 100_000));
  await client.downloadTo(partial, 'up.bin', 100_000);
  assert.equal(sha256(await fs.readFile(partial)), sha256(data));
  assert.equal(sha256(await fetch(client, 'up.bin', 300_000)), sha256(data.subarray(300_000)));

  // Resume an upload: REST + STOR via uploadFrom's localStart/… is not offered, so append the rest.
  await fs.writeFile(path.join(srv.aliceHome, 'half.bin'), data.subarray(0, 50_000));
  const have = await client.size('half.bin');
  assert.equal(have, 50_000);
  const rest = new PassThrough();
  rest.end(data.subarray(have));
  await client.appendFrom(rest, 'half.bin');
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'half.bin'))), sha256(data));
  await client.appendFrom(Readable.from([Buffer.from('more\n')]), 'stream.txt');
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'stream.txt'), 'utf8'), 'streamed\nmore\n');

  // Rename and remove.
  await client.rename('up.bin', 'renamed.bin');
  await client.remove('half.bin');
  assert.equal(await ftpCode(client.remove('half.bin')), 550);

  // ensureDir creates the nested directories and changes into them.
  await client.ensureDir('a/b c/d');
  assert.equal(await client.pwd(), '/a/b c/d');
  await client.uploadFrom(Readable.from([Buffer.from('deep')]), 'deep.txt');
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'a', 'b c', 'd', 'deep.txt'), 'utf8'), 'deep');
  await client.cd('/');
  await client.removeDir('a');
  assert.deepEqual((await fs.readdir(srv.aliceHome)).sort(), ['renamed.bin', 'stream.txt']);
  const names = (await client.list()).map((f) => f.name).sort();
  assert.deepEqual(names, ['renamed.bin', 'stream.txt']);
});

test('basic-ftp: uploadFromDir and downloadToDir copy a tree exactly', async (t) => {
  const { srv, tmp } = await setup(t);
  const client = await connect(t, srv.port, 'alice', 'secret');
  const local = path.join(tmp, 'src');
  await makeTree(local, {
    'top.txt': 'top\n',
    'empty.bin': Buffer.alloc(0),
    'docs/with space.txt': 'spaces\n',
    'docs/naïve – file.txt': 'utf-8\n',
    'data/deep/blob.bin': bytes(120_000, 62),
  });
  await client.uploadFromDir(local, 'tree');
  assert.deepEqual(await readTree(path.join(srv.aliceHome, 'tree')), await readTree(local));
  await client.cd('/');
  const back = path.join(tmp, 'back');
  await client.downloadToDir(back, 'tree');
  assert.deepEqual(await readTree(back), await readTree(local));
});

test('basic-ftp: anonymous drop box takes new files only', async (t) => {
  const { srv } = await setup(t);
  const client = await connect(t, srv.port);
  await client.uploadFrom(Readable.from([Buffer.from('first\n')]), 'incoming/drop.txt');
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');
  const over = await ftpCode(client.uploadFrom(Readable.from([Buffer.from('second\n')]), 'incoming/drop.txt'));
  assert.ok(over === 550 || over === 553, String(over));
  const app = await ftpCode(client.appendFrom(Readable.from([Buffer.from('more\n')]), 'incoming/drop.txt'));
  assert.ok(app === 550 || app === 553, String(app));
  assert.equal(await ftpCode(client.list('incoming')), 550);
  assert.equal(await ftpCode(fetch(client, 'incoming/drop.txt')), 550);
  assert.equal(await ftpCode(client.rename('incoming/drop.txt', 'incoming/x.txt')), 550);
  assert.equal(await ftpCode(client.remove('incoming/drop.txt')), 550);
  const ro = await ftpCode(client.uploadFrom(Readable.from([Buffer.from('x')]), 'pub/x.txt'));
  assert.ok(ro === 550 || ro === 553, String(ro));
  // The session is still usable after all those refusals.
  assert.equal((await fetch(client, 'hello.txt')).toString('utf8'), 'Hello, world!\n');
  assert.deepEqual(await fs.readdir(path.join(srv.root, 'incoming')), ['drop.txt']);
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');
});

test('basic-ftp: permission denials for the list+read user', async (t) => {
  const { srv } = await setup(t);
  const client = await connect(t, srv.port, 'reader', 'secret');
  assert.deepEqual(
    (await client.list()).map((f) => f.name),
    ['report.txt'],
  );
  assert.equal((await fetch(client, 'report.txt')).toString('utf8'), 'quarterly numbers\n');
  assert.equal(await ftpCode(client.uploadFrom(Readable.from([Buffer.from('x')]), 'x.txt')), 550);
  assert.equal(await ftpCode(client.appendFrom(Readable.from([Buffer.from('x')]), 'report.txt')), 550);
  assert.equal(await ftpCode(client.rename('report.txt', 'r.txt')), 550);
  assert.equal(await ftpCode(client.remove('report.txt')), 550);
  assert.equal(await ftpCode(client.send('MKD d')), 550);
  assert.deepEqual(await fs.readdir(srv.readerHome), ['report.txt']);
  const bad = new Client(10_000);
  t.after(() => bad.close());
  assert.equal(await ftpCode(bad.access({ host: '127.0.0.1', port: srv.port, user: 'reader', password: 'nope' })), 530);
});

test('basic-ftp: per-IP and anonymous limits answer 421', async (t) => {
  const { srv } = await setup(t, { server: { max_connections_per_ip: 3 }, anonymous: { max_connections: 1 } });
  const first = await connect(t, srv.port);
  const second = new Client(10_000);
  t.after(() => second.close());
  assert.equal(await ftpCode(second.access({ host: '127.0.0.1', port: srv.port, user: 'anonymous', password: 'a@b.c' })), 421);
  const alice = await connect(t, srv.port, 'alice', 'secret');
  const held = await holdSessions(srv.port, 1);
  t.after(() => held.close());
  const third = new Client(10_000);
  t.after(() => third.close());
  assert.equal(await ftpCode(third.access({ host: '127.0.0.1', port: srv.port, user: 'alice', password: 'secret' })), 421);
  // Sessions already open are not disturbed.
  assert.equal((await fetch(first, 'hello.txt')).toString('utf8'), 'Hello, world!\n');
  assert.deepEqual(
    (await alice.list()).map((f) => f.name),
    [],
  );
});
