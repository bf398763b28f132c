/** The ftp> shell driven through stdin (not a TTY), against pyftpdlib and vsftpd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bytes, makeTree, runCli, sha256, startPyftpdlib, startVsftpd, tempDir, type Peer } from '../helpers/peers.js';

const BIN = bytes(400_000, 4);

describe('wharf shell', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let py: Peer;
  let vs: Peer;
  let root: string;

  before(async () => {
    work = await tempDir();
    root = path.join(work.dir, 'root');
    await makeTree(root, {
      'welcome.txt': 'hi',
      'pub/f1.txt': 'file one',
      'pub/f2.bin': BIN,
      'pub/alpha.txt': 'alpha',
      'pub/apple.txt': 'apple',
      'pub/banana.txt': 'banana',
      'pub/fdir/inner.txt': 'not a file match',
    });
    await fs.promises.chmod(root, 0o755);
    py = await startPyftpdlib({ root });
    vs = await startVsftpd({ root, workDir: work.dir });
  });
  after(async () => {
    await py?.close();
    await vs?.close();
    await work?.cleanup();
  });

  async function scratch(name: string): Promise<string> {
    const d = path.join(work.dir, name);
    await fs.promises.mkdir(d, { recursive: true });
    return d;
  }

  for (const which of ['pyftpdlib', 'vsftpd'] as const) {
    test(`classic anonymous session against ${which}: mget f*, dir a* out.txt`, async () => {
      const peer = which === 'pyftpdlib' ? py : vs;
      const cwd = await scratch(`session-${which}`);
      const script = [
        `open 127.0.0.1 ${peer.port}`,
        'user anonymous guest@example.com',
        'prompt',
        'dir',
        'cd pub',
        'mget f*',
        'dir a* out.txt',
        'ls b*',
        'size f2.bin',
        'get alpha.txt renamed.txt',
        'get missing.txt',
        'pwd',
        'cdup',
        'bye',
      ].join('\n');
      const r = await runCli(['shell', '--verbose'], { cwd, input: `${script}\n` });
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      assert.match(out, /^Connected to 127\.0\.0\.1\.\n220[ -]/);
      assert.match(out, /^230 /m);
      assert.match(out, /^Remote system type is UNIX\.$/m);
      assert.match(out, /^250 /m, 'cd shows the reply');
      assert.match(out, /^local: f1\.txt remote: f1\.txt$/m);
      assert.match(out, /^400000 bytes received in [\d.]+ secs/m);
      assert.match(out, /^213 400000$/m, 'size shows the reply');
      assert.match(out, /^550 /m, 'a failed get shows the server reply');
      assert.match(out, /^banana\.txt$/m, 'ls b* lists the match');
      assert.doesNotMatch(out, /^apple\.txt$/m);
      assert.match(out, /^257 "[^"]*pub"/m);
      assert.match(out, /^221 /m);
      assert.equal(await fs.promises.readFile(path.join(cwd, 'f1.txt'), 'utf8'), 'file one');
      assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'f2.bin'))), sha256(BIN));
      assert.equal(fs.existsSync(path.join(cwd, 'fdir')), false, 'mget skips directories');
      assert.equal(fs.existsSync(path.join(cwd, 'missing.txt')), false);
      assert.equal(await fs.promises.readFile(path.join(cwd, 'renamed.txt'), 'utf8'), 'alpha');
      const listing = (await fs.promises.readFile(path.join(cwd, 'out.txt'), 'utf8')).trim().split('\n');
      assert.equal(listing.length, 2, listing.join('\n'));
      assert.match(listing[0] ?? '', /^-.* alpha\.txt$/);
      assert.match(listing[1] ?? '', /^-.* apple\.txt$/);
    });
  }

  test('-n with a URL waits for user; writes, toggles, active mode, EOF ends with exit 0', async () => {
    const cwd = await scratch('rw');
    await makeTree(cwd, { 'up.txt': 'uploaded', 'z1.dat': 'z one', 'z2.dat': 'z two', 'big.bin': BIN });
    const script = [
      'pwd',
      'user user secret',
      'prompt off',
      'mkdir work',
      'cd work',
      'put up.txt',
      'mput z*',
      'passive',
      'put big.bin big-active.bin',
      'get big-active.bin back.bin',
      'passive',
      'rename up.txt moved.txt',
      'ascii',
      'status',
      'binary',
      'mdelete z*',
      'delete moved.txt',
      'verbose',
      'cdup',
      'verbose',
      'lcd sub',
      'lcd nowhere',
      'nonsense',
      'help get',
      'rmdir work/sub-not-there',
    ].join('\n');
    await fs.promises.mkdir(path.join(cwd, 'sub'));
    const r = await runCli(['shell', '--verbose', '-n', py.url], { cwd, input: `${script}\n` });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^530 /m, 'before user, the server refuses');
    assert.match(out, /^Passive mode off\.$/m);
    assert.match(out, /^Passive mode on\.$/m);
    assert.match(out, /^(200 Active data connection established|200 EPRT command successful)/m);
    assert.match(out, /Type: ascii;/);
    assert.match(out, /^Verbose mode off\.$/m);
    assert.match(out, /^Local directory now .*sub$/m);
    assert.match(out, /^local: nowhere: No such directory$/m);
    assert.match(out, /^\?Invalid command$/m);
    assert.match(out, /^get {7}\treceive file$/m);
    const remote = path.join(root, 'work');
    assert.deepEqual((await fs.promises.readdir(remote)).sort(), ['big-active.bin']);
    assert.equal(sha256(await fs.promises.readFile(path.join(remote, 'big-active.bin'))), sha256(BIN));
    assert.equal(sha256(await fs.promises.readFile(path.join(cwd, 'back.bin'))), sha256(BIN));
  });

  test('open without credentials on a non-terminal waits for user; quit ends the session', async () => {
    const r = await runCli(['shell', '--verbose'], { input: `open 127.0.0.1 ${py.port}\nls\nuser anonymous x@y\nls\nquit\nls\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /Name \(/);
    assert.match(r.stdout, /^530 /m);
    assert.match(r.stdout, /^welcome\.txt$/m);
    assert.match(r.stdout, /^221 /m);
  });

  test('commands without a connection say so', async () => {
    const r = await runCli(['shell'], { input: 'ls\nget x\nstatus\n' });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Not connected\.$/m);
  });
});
