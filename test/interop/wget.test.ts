/**
 * Interop: GNU wget against a live Wharf server. wget -r parses the Unix
 * `LIST` output, so the recursive tests check the server's listing format
 * as well as the bytes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { bytes, describe, makeTree, readTree, run, sha256, tempDir, type RunOptions } from '../helpers/clients.js';

async function setup(t: TestContext): Promise<{ srv: TestServer; tmp: string; url: string }> {
  const srv = await startServer();
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-wget-');
  t.after(cleanup);
  return { srv, tmp: dir, url: `ftp://127.0.0.1:${srv.port}` };
}

function wget(args: readonly string[], opts: RunOptions = {}) {
  return run('wget', ['--timeout=10', '--tries=1', '--no-verbose', ...args], opts);
}

const ALICE = ['--user=alice', '--password=secret'];

test('wget: anonymous download to stdout, byte-exact', async (t) => {
  const { srv, url } = await setup(t);
  const hello = await wget(['-q', '-O', '-', `${url}/hello.txt`]);
  assert.equal(hello.code, 0, describe(hello));
  assert.equal(hello.stdout.toString('utf8'), 'Hello, world!\n');
  const data = await wget(['-q', '-O', '-', `${url}/pub/data.bin`]);
  assert.equal(data.code, 0, describe(data));
  assert.equal(sha256(data.stdout), sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
  const missing = await wget(['-q', '-O', '-', `${url}/nope.txt`]);
  assert.equal(missing.code, 8, describe(missing)); // server issued an error response
});

test('wget: active mode (--no-passive-ftp) download', async (t) => {
  const { srv, url } = await setup(t);
  const r = await wget(['--no-passive-ftp', '-q', '-O', '-', `${url}/pub/data.bin`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(r.stdout), sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
});

test('wget: user download and -c resume', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const data = bytes(180_000, 31);
  await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), data);
  const local = path.join(tmp, 'big.bin');
  await fs.writeFile(local, data.subarray(0, 99_999));
  const r = await wget([...ALICE, '-c', '-O', local, `${url}/big.bin`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(await fs.readFile(local)), sha256(data));
  const wrong = await wget(['--user=alice', '--password=wrong', '-q', '-O', '-', `${url}/big.bin`]);
  assert.equal(wrong.code, 6, describe(wrong)); // username/password authentication failure
});

test('wget: recursive anonymous download of the archive', async (t) => {
  const { srv, tmp, url } = await setup(t);
  for (const passive of [true, false]) {
    const dest = path.join(tmp, passive ? 'pasv' : 'port');
    await fs.mkdir(dest);
    const r = await wget(['-r', '-nH', ...(passive ? [] : ['--no-passive-ftp']), `${url}/`], { cwd: dest });
    assert.equal(r.code, 0, describe(r));
    const got = await readTree(dest);
    // The drop box cannot be listed, so nothing comes from it.
    assert.ok(!Object.keys(got).some((k) => k.startsWith('incoming/')), JSON.stringify(got));
    delete got['incoming'];
    assert.deepEqual(got, {
      'hello.txt': sha256('Hello, world!\n'),
      pub: 'dir',
      'pub/data.bin': sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))),
    });
  }
});

test('wget: recursive download of a user tree, with spaces and UTF-8 names', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const remote = path.join(srv.aliceHome, 'tree');
  await makeTree(remote, {
    'top.txt': 'top\n',
    'empty.bin': Buffer.alloc(0),
    'docs/readme.md': '# hi\n',
    'docs/with space.txt': 'spaces\n',
    'docs/naïve.txt': 'utf-8 name\n',
    'data/deep/er/blob.bin': bytes(100_000, 32),
  });
  const dest = path.join(tmp, 'dest');
  await fs.mkdir(dest);
  const r = await wget([...ALICE, '-r', '-nH', '--restrict-file-names=nocontrol', '--local-encoding=UTF-8', `${url}/tree/`], { cwd: dest });
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await readTree(path.join(dest, 'tree')), await readTree(remote));
});
