/**
 * Interop: lftp against a live Wharf server, in passive and active mode.
 * lftp prefers MLSD when FEAT offers it, so listings and mirror go through
 * the server's MLSD; `cls` output and the files on disk are what we check.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { bytes, describe, holdSessions, lftp, makeTree, readTree, sha256, tempDir } from '../helpers/clients.js';

async function setup(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; tmp: string }> {
  const srv = await startServer(overrides);
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-lftp-');
  t.after(cleanup);
  return { srv, tmp: dir };
}

const ALICE = 'alice,secret';

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';

  test(`lftp (${mode}): anonymous ls and get`, async (t) => {
    const { srv, tmp } = await setup(t);
    const ls = await lftp(srv.port, null, 'cls -1; cls -l pub', { passive });
    assert.equal(ls.code, 0, describe(ls));
    const lines = ls.stdout.toString('utf8').split('\n');
    for (const name of ['hello.txt', 'incoming/', 'pub/']) assert.ok(lines.includes(name), `${name} in\n${describe(ls)}`);
    assert.match(ls.stdout.toString('utf8'), /^-.*65536 .*data\.bin$/m);
    const out = path.join(tmp, 'data.bin');
    const get = await lftp(srv.port, null, `get pub/data.bin -o ${out}; cat hello.txt`, { passive });
    assert.equal(get.code, 0, describe(get));
    assert.equal(sha256(await fs.readFile(out)), sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
    assert.equal(get.stdout.toString('utf8'), 'Hello, world!\n');
  });

  test(`lftp (${mode}): user put and get round-trip`, async (t) => {
    const { srv, tmp } = await setup(t);
    const data = bytes(250_000, 11);
    const src = path.join(tmp, 'up.bin');
    await fs.writeFile(src, data);
    const back = path.join(tmp, 'back.bin');
    const log = path.join(tmp, 'debug.log');
    const r = await lftp(srv.port, ALICE, `debug -o ${log} 5; put ${src} -o up.bin; get up.bin -o ${back}`, { passive });
    assert.equal(r.code, 0, describe(r));
    // The data connections really were set up in the requested mode.
    const trace = await fs.readFile(log, 'utf8');
    assert.match(trace, passive ? /---> (EPSV|PASV)\b/ : /---> (EPRT|PORT) /, trace);
    assert.doesNotMatch(trace, passive ? /---> (EPRT|PORT) / : /---> (EPSV|PASV)\b/, trace);
    assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'up.bin'))), sha256(data));
    assert.equal(sha256(await fs.readFile(back)), sha256(data));
  });
}

test('lftp: get -c resumes a partial download, put -c a partial upload', async (t) => {
  const { srv, tmp } = await setup(t);
  const data = bytes(300_000, 12);
  await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), data);
  const local = path.join(tmp, 'big.bin');
  await fs.writeFile(local, data.subarray(0, 123_456));
  const r = await lftp(srv.port, ALICE, `debug -o ${tmp}/debug.log 5; get -c big.bin -o ${local}`);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(await fs.readFile(local)), sha256(data));
  const log = await fs.readFile(path.join(tmp, 'debug.log'), 'utf8');
  assert.match(log, /---> REST 123456/, log);

  const up = bytes(200_000, 13);
  const src = path.join(tmp, 'up.bin');
  await fs.writeFile(src, up);
  await fs.writeFile(path.join(srv.aliceHome, 'up.bin'), up.subarray(0, 65_000));
  const p = await lftp(srv.port, ALICE, `put -c ${src} -o up.bin`);
  assert.equal(p.code, 0, describe(p));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'up.bin'))), sha256(up));
});

test('lftp: mv, rm, mkdir, rmdir', async (t) => {
  const { srv } = await setup(t);
  await fs.writeFile(path.join(srv.aliceHome, 'a.txt'), 'A');
  await fs.writeFile(path.join(srv.aliceHome, 'gone.txt'), 'G');
  await fs.mkdir(path.join(srv.aliceHome, 'old'));
  const r = await lftp(srv.port, ALICE, 'mkdir -p x/y; mv a.txt x/y/b.txt; rm gone.txt; rmdir old; cls -1 x/y');
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual((await fs.readdir(srv.aliceHome)).sort(), ['x']);
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'x', 'y', 'b.txt'), 'utf8'), 'A');
  assert.match(r.stdout.toString('utf8'), /b\.txt/);
  // Failures are reported with the server's reply.
  const bad = await lftp(srv.port, ALICE, 'rm no-such-file');
  assert.notEqual(bad.code, 0, describe(bad));
  assert.match(bad.stderr, /550/, describe(bad));
});

const TREE: Record<string, string | Buffer> = {
  'top.txt': 'top\n',
  'empty.bin': Buffer.alloc(0),
  'docs/readme.md': '# hi\n',
  'docs/naïve – file.txt': 'utf-8 name\n',
  'docs/with space.txt': 'spaces\n',
  'data/deep/er/blob.bin': bytes(100_000, 21),
  'data/deep/er/small.bin': bytes(1, 22),
};

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';

  test(`lftp (${mode}): mirror downloads a tree exactly`, async (t) => {
    const { srv, tmp } = await setup(t);
    const remote = path.join(srv.aliceHome, 'tree');
    await makeTree(remote, TREE);
    await fs.mkdir(path.join(remote, 'emptydir'));
    const local = path.join(tmp, 'copy');
    const r = await lftp(srv.port, ALICE, `mirror tree ${local}`, { passive });
    assert.equal(r.code, 0, describe(r));
    assert.deepEqual(await readTree(local), await readTree(remote));
  });

  test(`lftp (${mode}): mirror -R uploads a tree exactly`, async (t) => {
    const { srv, tmp } = await setup(t);
    const local = path.join(tmp, 'src');
    await makeTree(local, TREE);
    await fs.mkdir(path.join(local, 'emptydir'));
    const r = await lftp(srv.port, ALICE, `mirror -R ${local} up/tree`, { passive });
    assert.equal(r.code, 0, describe(r));
    assert.deepEqual(await readTree(path.join(srv.aliceHome, 'up', 'tree')), await readTree(local));
    // A second run finds nothing to do and changes nothing.
    const again = await lftp(srv.port, ALICE, `mirror -R ${local} up/tree`, { passive });
    assert.equal(again.code, 0, describe(again));
    assert.deepEqual(await readTree(path.join(srv.aliceHome, 'up', 'tree')), await readTree(local));
  });
}

test('lftp: anonymous mirror of a public directory', async (t) => {
  const { srv, tmp } = await setup(t);
  const local = path.join(tmp, 'pub');
  const r = await lftp(srv.port, null, `mirror pub ${local}`);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await readTree(local), await readTree(path.join(srv.root, 'pub')));
});

test('lftp: anonymous drop box takes new files only', async (t) => {
  const { srv, tmp } = await setup(t);
  const src = path.join(tmp, 'drop.txt');
  await fs.writeFile(src, 'first\n');
  const up = await lftp(srv.port, null, `put ${src} -o incoming/drop.txt`);
  assert.equal(up.code, 0, describe(up));
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');

  await fs.writeFile(src, 'second\n');
  const over = await lftp(srv.port, null, `put ${src} -o incoming/drop.txt`);
  assert.notEqual(over.code, 0, describe(over));
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');

  const ls = await lftp(srv.port, null, 'cls -1 incoming/');
  assert.notEqual(ls.code, 0, describe(ls));
  assert.doesNotMatch(ls.stdout.toString('utf8'), /drop\.txt/);

  const get = await lftp(srv.port, null, `get incoming/drop.txt -o ${path.join(tmp, 'got.txt')}`);
  assert.notEqual(get.code, 0, describe(get));
  assert.match(get.stderr, /550/, describe(get));

  for (const cmd of ['rm incoming/drop.txt', 'mv incoming/drop.txt incoming/x.txt', 'mkdir incoming/d']) {
    const r = await lftp(srv.port, null, cmd);
    assert.notEqual(r.code, 0, `${cmd}: ${describe(r)}`);
    assert.match(r.stderr, /55\d/, `${cmd}: ${describe(r)}`);
  }
  assert.deepEqual(await fs.readdir(path.join(srv.root, 'incoming')), ['drop.txt']);
});

test('lftp: permission denials for the list+read user', async (t) => {
  const { srv, tmp } = await setup(t);
  const ok = await lftp(srv.port, 'reader,secret', 'cls -1; cat report.txt');
  assert.equal(ok.code, 0, describe(ok));
  assert.equal(ok.stdout.toString('utf8'), 'report.txt\nquarterly numbers\n');
  const src = path.join(tmp, 'x.txt');
  await fs.writeFile(src, 'x');
  for (const cmd of [`put ${src} -o x.txt`, 'rm report.txt', 'mkdir d', 'mv report.txt r.txt']) {
    const r = await lftp(srv.port, 'reader,secret', cmd);
    assert.notEqual(r.code, 0, `${cmd}: ${describe(r)}`);
    assert.match(r.stderr, /550/, `${cmd}: ${describe(r)}`);
  }
  assert.deepEqual(await fs.readdir(srv.readerHome), ['report.txt']);
});

test('lftp: anonymous session limit reports the 421', async (t) => {
  const { srv } = await setup(t, { anonymous: { max_connections: 1 } });
  const held = await holdSessions(srv.port, 1, { name: 'anonymous', pass: 'a@b.c' });
  t.after(() => held.close());
  const r = await lftp(srv.port, null, 'cls -1 /');
  assert.notEqual(r.code, 0, describe(r));
  assert.match(r.stderr, /421/, describe(r));
  const user = await lftp(srv.port, ALICE, 'cls -1 /');
  assert.equal(user.code, 0, describe(user));
});
