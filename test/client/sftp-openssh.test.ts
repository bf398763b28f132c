/** The SFTP client library and CLI against OpenSSH's sshd (internal-sftp), logging in as root with a key. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, FtpTimeoutError, type SftpClient, toBuffer, type SftpUrl } from '../../src/client/index.js';
import { bytes, makeTree, readTree, runCli, sha256, tempDir } from '../helpers/peers.js';
import { sshKeygen, type KeyPair } from '../helpers/sftp.js';
import { descendants, knownHostsLine, startSshd, writeKnownHosts, type Sshd } from './sftp-helpers.js';

const BIG = bytes(3_000_000, 11);

describe('SFTP client against OpenSSH sshd', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let sshd: Sshd;
  let home: string;
  let remote: string;
  let stranger: KeyPair;

  before(async () => {
    work = await tempDir('wharf-sftp-openssh-');
    sshd = await startSshd(work.dir);
    stranger = await sshKeygen(work.dir, 'stranger');
    home = path.join(work.dir, 'home');
    await writeKnownHosts(home, [knownHostsLine(sshd.port, sshd.hostKey.pub, true)]);
    remote = path.join(work.dir, 'remote');
    await makeTree(remote, {
      'big.bin': BIG,
      'tree/a.txt': 'a',
      'tree/sub/b.txt': 'bee',
      'tree/sub/deeper/c.bin': bytes(200_000, 3),
      'tree/d.bin': bytes(100_000, 4),
    });
  });
  after(async () => {
    await sshd?.stop();
    await work?.cleanup();
  });

  const base = (): SftpUrl => `sftp://root@127.0.0.1:${sshd.port}`;
  const env = (): NodeJS.ProcessEnv => ({ HOME: home, NETRC: path.join(home, '.netrc') });
  const cli = (args: string[], cwd = work.dir): ReturnType<typeof runCli> => runCli(args, { cwd, env: env(), timeoutMs: 60_000 });

  async function open(): Promise<SftpClient> {
    return connect(base(), { identityFiles: [sshd.clientKey.key], knownHostsFile: path.join(home, '.ssh', 'known_hosts'), timeout: 15_000 });
  }

  test('library: list, byte-exact download and upload, mkdir -p, rename, remove', async () => {
    const c = await open();
    try {
      assert.equal(await c.pwd(), '/root');
      const names = (await c.list(remote)).map((e) => `${e.type}:${e.name}:${e.size ?? ''}`);
      assert.ok(names.includes(`file:big.bin:${BIG.length}`), names.join());
      assert.ok(names.includes('directory:tree:4096') || names.some((n) => n.startsWith('directory:tree:')), names.join());
      const sink = toBuffer();
      assert.equal(await c.download(`${remote}/big.bin`, sink), BIG.length);
      assert.equal(sha256(sink.data()), sha256(BIG));
      const local = path.join(work.dir, 'up.bin');
      await fs.promises.writeFile(local, BIG);
      assert.equal(await c.upload(local, `${remote}/up.bin`), BIG.length);
      assert.equal(sha256(await fs.promises.readFile(path.join(remote, 'up.bin'))), sha256(BIG));
      await c.mkdir(`${remote}/x/y/z`, { recursive: true });
      assert.ok(fs.statSync(path.join(remote, 'x', 'y', 'z')).isDirectory());
      await c.cd(`${remote}/x`);
      await c.rename('../up.bin', 'y/moved.bin');
      assert.equal(sha256(await fs.promises.readFile(path.join(remote, 'x', 'y', 'moved.bin'))), sha256(BIG));
      await c.remove('y/moved.bin');
      await c.cd('..');
      await c.removeDir('x', { recursive: true });
      assert.equal(fs.existsSync(path.join(remote, 'x')), false);
    } finally {
      await c.close();
    }
  });

  test('library: an aborted download rejects with AbortError and the client stays usable', async () => {
    const c = await open();
    try {
      const ac = new AbortController();
      const sink = toBuffer();
      const p = c.download(`${remote}/big.bin`, sink, { signal: ac.signal, progressInterval: 0, onProgress: () => ac.abort() });
      await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
      assert.ok(sink.data().length < BIG.length);
      assert.equal(await c.size(`${remote}/big.bin`), BIG.length);
    } finally {
      await c.close();
    }
  });

  test('library: a server that stops answering fails the call with FtpTimeoutError after the timeout, and closes', async () => {
    const c = await connect(base(), { identityFiles: [sshd.clientKey.key], knownHostsFile: path.join(home, '.ssh', 'known_hosts'), timeout: 1500 });
    const stopped = await descendants(sshd.pid);
    assert.ok(stopped.length > 0, 'the connection is served by a child of sshd');
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      await assert.rejects(c.size(`${remote}/big.bin`), (e: unknown) => e instanceof FtpTimeoutError && /no reply from the SFTP server within 1\.5 s/.test(e.message));
      const waited = Date.now() - started;
      assert.ok(waited >= 1400 && waited < 10_000, `failed after ${waited} ms`);
      assert.equal(c.closed, true);
      await assert.rejects(c.list('/'));
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      c.destroy();
    }
  });

  test('CLI: get, put, ls with -i and --continue resume', async () => {
    const cwd = path.join(work.dir, 'cli');
    await fs.promises.mkdir(cwd);
    const key = ['-i', sshd.clientKey.key];
    let r = await cli(['get', ...key, `${base()}${remote}/big.bin`], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(cwd, 'big.bin'))), sha256(BIG));
    // --continue: a partial local file is completed.
    fs.writeFileSync(path.join(cwd, 'part.bin'), BIG.subarray(0, 1_000_000));
    r = await cli(['get', '--continue', ...key, `${base()}${remote}/big.bin`, 'part.bin'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(cwd, 'part.bin'))), sha256(BIG));
    // put, then put --continue onto a partial remote file.
    r = await cli(['put', ...key, 'big.bin', `${base()}${remote}/`], cwd);
    assert.equal(r.code, 0, r.stderr);
    fs.writeFileSync(path.join(remote, 'resume.bin'), BIG.subarray(0, 777_777));
    r = await cli(['put', '--continue', ...key, 'big.bin', `${base()}${remote}/resume.bin`], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(remote, 'resume.bin'))), sha256(BIG));
    r = await cli(['ls', ...key, `${base()}${remote}/`], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^-rw-r--r-- +${BIG.length} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d big\\.bin$`, 'm'));
    assert.match(r.stdout, /^drwx.* tree$/m);
    r = await cli(['ls', '--names', ...key, `${base()}${remote}/big.bin`], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'big.bin\n');
    r = await cli(['get', ...key, `${base()}${remote}/tree/*.txt`, 'globbed/'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(cwd, 'globbed', 'a.txt'), 'utf8'), 'a');
    r = await cli(['get', ...key, `${base()}${remote}/missing.bin`], cwd);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `wharf: open ${remote}/missing.bin: no such file\n`);
    await fs.promises.rm(path.join(remote, 'resume.bin'));
  });

  test('CLI: mirror down and up with --parallel 3; a second run moves nothing', async () => {
    const down = path.join(work.dir, 'mirror-down');
    const key = ['-i', sshd.clientKey.key];
    let r = await cli(['mirror', '--parallel', '3', ...key, `${base()}${remote}/tree/`, down]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mirror: 4 transferred/, r.stdout + r.stderr);
    assert.deepEqual(await readTree(down), await readTree(path.join(remote, 'tree')));
    r = await cli(['mirror', '--parallel', '3', ...key, `${base()}${remote}/tree/`, down]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mirror: 0 transferred, 4 unchanged/, r.stdout + r.stderr);
    const upTarget = path.join(remote, 'uploaded');
    r = await cli(['mirror', '--reverse', '--parallel', '3', ...key, `${base()}${upTarget}`, down]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mirror: 4 transferred/, r.stdout + r.stderr);
    assert.deepEqual(await readTree(upTarget), await readTree(down));
    r = await cli(['mirror', '--reverse', '--parallel', '3', ...key, `${base()}${upTarget}`, down]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mirror: 0 transferred, 4 unchanged/, r.stdout + r.stderr);
  });

  test('CLI: an unknown host key without -k, and a refused key, fail with one line', async () => {
    const nohome = path.join(work.dir, 'nohome');
    let r = await runCli(['ls', '-i', sshd.clientKey.key, `${base()}/`], { env: { HOME: nohome, NETRC: path.join(nohome, '.netrc') }, timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`known_hosts.*ssh-keyscan -p ${sshd.port} 127\\.0\\.0\\.1`));
    r = await runCli(['ls', '-k', '-i', sshd.clientKey.key, `${base()}${remote}/`], { env: { HOME: nohome, NETRC: path.join(nohome, '.netrc') }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['ls', '-i', stranger.key, `${base()}/`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^wharf: authentication failed for root@127\.0\.0\.1/);
  });
});
