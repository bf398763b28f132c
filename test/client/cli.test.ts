/** The one-shot CLI commands, spawned as a user would run them, against pyftpdlib. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bytes, makeCert, makeTree, readTree, runCli, sha256, startPyftpdlib, tempDir, type Peer } from '../helpers/peers.js';

const BIG = bytes(2_000_000, 9);

describe('wharf get/put/ls/mirror', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let peer: Peer;
  let tlsPeer: Peer;
  let root: string;
  let home: string;
  let hostPort: string;

  before(async () => {
    work = await tempDir();
    root = path.join(work.dir, 'root');
    home = path.join(work.dir, 'home');
    await fs.promises.mkdir(home);
    await makeTree(root, {
      'pub/big.iso': BIG,
      'pub/small.iso': 'small iso',
      'pub/notes.txt': 'notes',
      'pub/my file%.txt': 'percent',
      'pub/tree/a.txt': 'a',
      'pub/tree/sub/b.txt': 'b',
      'incoming/.keep': '',
    });
    const cert = await makeCert(work.dir);
    peer = await startPyftpdlib({ root });
    tlsPeer = await startPyftpdlib({ root, tls: cert });
    hostPort = `127.0.0.1:${peer.port}`;
  });
  after(async () => {
    await peer?.close();
    await tlsPeer?.close();
    await work?.cleanup();
  });

  async function scratch(name: string): Promise<string> {
    const d = path.join(work.dir, name);
    await fs.promises.mkdir(d, { recursive: true });
    return d;
  }
  const env = (): NodeJS.ProcessEnv => ({ HOME: home, NETRC: path.join(home, '.netrc') });

  test('get URL saves under the remote name with the exact bytes, quietly when not a TTY', async () => {
    const cwd = await scratch('get1');
    const r = await runCli(['get', `${peer.url}/pub/big.iso`], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'big.iso'))), sha256(BIG));
  });

  test('get decodes percent-encoded names; DEST may be a directory or a file; - is stdout', async () => {
    const cwd = await scratch('get2');
    await fs.promises.mkdir(path.join(cwd, 'into'));
    let r = await runCli(['get', `${peer.url}/pub/my%20file%25.txt`], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fs.promises.readFile(path.join(cwd, 'my file%.txt'), 'utf8'), 'percent');
    r = await runCli(['get', `${peer.url}/pub/notes.txt`, 'into'], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fs.promises.readFile(path.join(cwd, 'into', 'notes.txt'), 'utf8'), 'notes');
    r = await runCli(['get', `${peer.url}/pub/notes.txt`, 'renamed.txt'], { cwd, env: env() });
    assert.equal(await fs.promises.readFile(path.join(cwd, 'renamed.txt'), 'utf8'), 'notes');
    r = await runCli(['get', `${peer.url}/pub/notes.txt`, '-'], { cwd, env: env() });
    assert.equal(r.stdout, 'notes');
  });

  test('get with a glob fetches every match', async () => {
    const cwd = await scratch('get3');
    const r = await runCli(['get', `${peer.url}/pub/*.iso`, 'isos'], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await fs.promises.readdir(path.join(cwd, 'isos'))).sort(), ['big.iso', 'small.iso']);
    assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'isos', 'big.iso'))), sha256(BIG));
    const none = await runCli(['get', `${peer.url}/pub/*.zip`], { cwd, env: env() });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /^wharf: no file matches/);
  });

  test('get --continue resumes an interrupted download with REST', async () => {
    const cwd = await scratch('get4');
    await fs.promises.writeFile(path.join(cwd, 'big.iso'), BIG.subarray(0, 750_000));
    const r = await runCli(['get', '--continue', '--verbose', `${peer.url}/pub/big.iso`], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--> REST 750000/);
    assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'big.iso'))), sha256(BIG));
  });

  test('failures: one wharf: line and a non-zero exit', async () => {
    const cwd = await scratch('get5');
    const cases: Array<[string[], RegExp, number]> = [
      [['get', `${peer.url}/pub/missing.bin`], /^wharf: RETR pub\/missing\.bin: 550 /, 1],
      [['get', 'http://example.invalid/x'], /^wharf: unsupported URL scheme http/, 2],
      [['get', `ftp://user:wrong@${hostPort}/pub/notes.txt`], /^wharf: PASS \*\*\*\*: 530 /, 1],
      [['ls', `${peer.url}/nonexistent/`], /^wharf: MLSD nonexistent\/: 5\d\d /, 1],
      [['get', '--tls', `${peer.url}/pub/notes.txt`], /^wharf: server refused AUTH TLS/, 1],
      [['get', '--tls', `${tlsPeer.url}/pub/notes.txt`], /^wharf: TLS handshake failed: .*certificate/, 1],
    ];
    for (const [args, re, code] of cases) {
      const r = await runCli(args, { cwd, env: env() });
      // Usage errors exit 2; other failures exit non-zero (1 where main passes the code through).
      if (code === 2) assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      else assert.ok(r.code !== 0 && r.code !== null, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(fs.existsSync(path.join(cwd, 'missing.bin')), false);
  });

  test('--tls with -k works against a self-signed server; the password never shows in --verbose', async () => {
    const cwd = await scratch('get6');
    const r = await runCli(['get', '--tls', '-k', '--verbose', `ftp://user:secret@127.0.0.1:${tlsPeer.port}/pub/big.iso`], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--> AUTH TLS/);
    assert.match(r.stderr, /--> PROT P/);
    assert.match(r.stderr, /--> PASS \*\*\*\*/);
    assert.doesNotMatch(r.stderr, /secret/);
    assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'big.iso'))), sha256(BIG));
  });

  test('put FILE URL (credentials from ~/.netrc), put to a directory URL, put --continue', async () => {
    const cwd = await scratch('put1');
    await fs.promises.writeFile(path.join(home, '.netrc'), 'machine 127.0.0.1\n  login user\n  password secret\n');
    try {
      await fs.promises.writeFile(path.join(cwd, 'up.bin'), BIG);
      let r = await runCli(['put', 'up.bin', `${peer.url}/incoming/renamed.bin`], { cwd, env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256(await fs.promises.readFile(path.join(root, 'incoming/renamed.bin'))), sha256(BIG));
      r = await runCli(['put', 'up.bin', `${peer.url}/incoming/`], { cwd, env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256(await fs.promises.readFile(path.join(root, 'incoming/up.bin'))), sha256(BIG));
      await fs.promises.writeFile(path.join(root, 'incoming/partial.bin'), BIG.subarray(0, 1_234_567));
      await fs.promises.copyFile(path.join(cwd, 'up.bin'), path.join(cwd, 'partial.bin'));
      r = await runCli(['put', '--continue', '--verbose', 'partial.bin', `${peer.url}/incoming/`], { cwd, env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /--> APPE incoming\/partial\.bin/);
      assert.equal(sha256(await fs.promises.readFile(path.join(root, 'incoming/partial.bin'))), sha256(BIG));
    } finally {
      await fs.promises.rm(path.join(home, '.netrc'));
    }
    const anon = await runCli(['put', path.join(cwd, 'up.bin'), `${peer.url}/incoming/anon.bin`], { cwd, env: env() });
    assert.ok(anon.code !== 0 && anon.code !== null);
    assert.match(anon.stderr, /^wharf: STOR incoming\/anon\.bin: 550 /);
    const missing = await runCli(['put', 'no-such-file', `${peer.url}/incoming/`], { cwd, env: env() });
    assert.equal(missing.code, 2);
  });

  test('ls URL lists names, sizes and types; --names and globs', async () => {
    const r = await runCli(['ls', `${peer.url}/pub/`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 5);
    assert.match(r.stdout, /^-[-rwx]{9} +2000000 \d{4}-\d\d-\d\d \d\d:\d\d big\.iso$/m);
    assert.match(r.stdout, /^d[-rwx]{9} .* tree$/m);
    const names = await runCli(['ls', '--names', `${peer.url}/pub/*.iso`], { env: env() });
    assert.equal(names.stdout, 'big.iso\nsmall.iso\n');
  });

  test('mirror URL DIR, a second run transfers nothing; --reverse uploads a tree', async () => {
    const cwd = await scratch('mirror1');
    let r = await runCli(['mirror', '--parallel', '2', `${peer.url}/pub/tree/`, 'copy'], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mirror: 2 transferred, 0 unchanged/);
    assert.deepEqual(await readTree(path.join(cwd, 'copy')), await readTree(path.join(root, 'pub/tree')));
    r = await runCli(['mirror', `${peer.url}/pub/tree/`, 'copy'], { cwd, env: env() });
    assert.match(r.stdout, /mirror: 0 transferred, 2 unchanged/);
    await makeTree(path.join(cwd, 'local'), { 'x.txt': 'x', 'deep/er/y.bin': bytes(100_000, 2) });
    r = await runCli(['mirror', '--reverse', '--parallel', '3', `ftp://user:secret@${hostPort}/incoming/tree`, 'local'], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readTree(path.join(root, 'incoming/tree')), await readTree(path.join(cwd, 'local')));
    r = await runCli(['mirror', '--reverse', `ftp://user:secret@${hostPort}/incoming/tree`, 'local'], { cwd, env: env() });
    assert.match(r.stdout, /mirror: 0 transferred, 2 unchanged/);
    const bad = await runCli(['mirror', '--parallel', 'x', `${peer.url}/pub/`, 'z'], { cwd, env: env() });
    assert.equal(bad.code, 2);
  });
});
