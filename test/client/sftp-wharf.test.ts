/** The SFTP client library and CLI against Wharf's own SFTP server: anonymous, alice, host keys, failures. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  connect,
  FtpIntegrityError,
  SftpAuthError,
  SftpClient,
  SftpError,
  SftpHostKeyError,
  fromBuffer,
  toBuffer,
  type SftpUrl,
  type TransferProgress,
} from '../../src/client/index.js';
import { bytes, runCli, sha256, tempDir } from '../helpers/peers.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sshKeygen, type KeyPair } from '../helpers/sftp.js';
import { knownHostsLine, writeKnownHosts } from './sftp-helpers.js';

const BIG = bytes(1_500_000, 7);

describe('SFTP client against the Wharf server', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let srv: TestServer;
  let port: number;
  let hostKey: KeyPair;
  let stranger: KeyPair;
  let home: string;
  let knownHosts: string;
  const savedHome = process.env.HOME;

  before(async () => {
    work = await tempDir('wharf-sftp-client-');
    [hostKey, stranger] = await Promise.all([sshKeygen(work.dir, 'host'), sshKeygen(work.dir, 'stranger')]);
    srv = await startServer({ sftp: { port: 0, host_keys: [hostKey.key], anonymous: true } });
    const p = srv.server.addresses.sftp?.port;
    if (p === undefined) throw new Error('no SFTP listener');
    port = p;
    home = path.join(work.dir, 'home');
    knownHosts = await writeKnownHosts(home, [knownHostsLine(port, hostKey.pub)]);
    process.env.HOME = home; // default keys and known_hosts of the library come from $HOME
  });
  after(async () => {
    process.env.HOME = savedHome;
    await srv?.close();
    await work?.cleanup();
  });

  const url = (user = 'anonymous', password?: string): SftpUrl => `sftp://${user}${password === undefined ? '' : `:${password}`}@127.0.0.1:${port}/`;
  const env = (): NodeJS.ProcessEnv => ({ HOME: home, NETRC: path.join(home, '.netrc'), USER: 'nobody' });

  test('anonymous: list, size, lastModified and a byte-exact download', async () => {
    const c = await connect(url());
    try {
      assert.ok(c instanceof SftpClient);
      const names = (await c.list('/')).map((e) => `${e.type}:${e.name}`);
      assert.ok(names.includes('file:hello.txt'), names.join());
      assert.ok(names.includes('directory:pub'), names.join());
      const disk = await fs.promises.readFile(path.join(srv.root, 'pub', 'data.bin'));
      assert.equal(await c.size('pub/data.bin'), disk.length);
      assert.ok((await c.lastModified('/pub/data.bin')).getTime() > 0);
      const sink = toBuffer();
      assert.equal(await c.download('/pub/data.bin', sink), disk.length);
      assert.equal(sha256(sink.data()), sha256(disk));
      await assert.rejects(c.download('/missing.bin', path.join(work.dir, 'never')), (e: unknown) => e instanceof SftpError && e.code === 2);
      assert.equal(fs.existsSync(path.join(work.dir, 'never')), false, 'a refused download leaves no local file');
    } finally {
      await c.close();
    }
  });

  test('alice: upload with progress, resume, cd/pwd, mkdir -p, rename, remove, removeDir', async () => {
    const c = await connect({ protocol: 'sftp', host: '127.0.0.1', port, user: 'alice', password: 'secret' });
    try {
      const src = path.join(work.dir, 'big.bin');
      await fs.promises.writeFile(src, BIG);
      const events: TransferProgress[] = [];
      c.on('progress', (p) => events.push(p));
      assert.equal(await c.upload(src, 'big.bin'), BIG.length);
      assert.equal(sha256(await fs.promises.readFile(path.join(srv.aliceHome, 'big.bin'))), sha256(BIG));
      assert.ok(events.at(-1)?.done && events.at(-1)?.bytes === BIG.length);
      // Resume a download from half way.
      const local = path.join(work.dir, 'half.bin');
      await fs.promises.writeFile(local, BIG.subarray(0, 700_000));
      assert.equal(await c.download('big.bin', local, { offset: 700_000 }), BIG.length - 700_000);
      assert.equal(sha256(await fs.promises.readFile(local)), sha256(BIG));
      // Resume an upload (append the rest).
      await fs.promises.writeFile(path.join(srv.aliceHome, 'part.bin'), BIG.subarray(0, 123_456));
      assert.equal(await c.upload(src, 'part.bin', { offset: 123_456, append: true }), BIG.length - 123_456);
      assert.equal(sha256(await fs.promises.readFile(path.join(srv.aliceHome, 'part.bin'))), sha256(BIG));
      await c.mkdir('a/b/c', { recursive: true });
      await c.mkdir('a/b/c', { recursive: true });
      assert.ok(fs.statSync(path.join(srv.aliceHome, 'a', 'b', 'c')).isDirectory());
      await c.cd('a/b');
      assert.equal(await c.pwd(), '/a/b');
      await c.upload(fromBuffer('x'), 'c/x.txt');
      await c.cd('..');
      assert.equal(await c.pwd(), '/a');
      await c.rename('b/c/x.txt', '/a/y.txt');
      assert.equal(fs.readFileSync(path.join(srv.aliceHome, 'a', 'y.txt'), 'utf8'), 'x');
      await c.remove('y.txt');
      await c.cd('/');
      await c.removeDir('a', { recursive: true });
      assert.equal(fs.existsSync(path.join(srv.aliceHome, 'a')), false);
      const when = new Date('2020-01-02T03:04:05Z');
      assert.equal(await c.setLastModified('big.bin', when), true);
      assert.equal((await c.lastModified('big.bin')).getTime(), when.getTime());
    } finally {
      await c.close();
    }
  });

  test('a transfer shorter than the expected size throws FtpIntegrityError', async () => {
    const c = await connect(url());
    try {
      await assert.rejects(c.download('/hello.txt', toBuffer(), { expectedSize: 1_000_000 }), FtpIntegrityError);
    } finally {
      await c.close();
    }
  });

  test('host keys: unknown and changed keys are refused, hashed entries and insecure accepted', async () => {
    const empty = path.join(work.dir, 'empty_known_hosts');
    await fs.promises.writeFile(empty, '');
    await assert.rejects(connect(url(), { knownHostsFile: empty }), (e: unknown) => {
      assert.ok(e instanceof SftpHostKeyError && e.reason === 'unknown', String(e));
      assert.match(e.message, new RegExp(`ssh-keyscan -p ${port} 127\\.0\\.0\\.1 >> `));
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    const changed = path.join(work.dir, 'changed_known_hosts');
    await fs.promises.writeFile(changed, `${knownHostsLine(port, stranger.pub)}\n`);
    await assert.rejects(connect(url(), { knownHostsFile: changed }), (e: unknown) => e instanceof SftpHostKeyError && e.reason === 'changed' && /CHANGED/.test(e.message));
    const hashed = path.join(work.dir, 'hashed_known_hosts');
    await fs.promises.writeFile(hashed, `# comment\n${knownHostsLine(port, hostKey.pub, true)}\n`);
    const ok = await connect(url(), { knownHostsFile: hashed });
    await ok.close();
    const insecure = await connect(url(), { knownHostsFile: changed, insecure: true });
    await insecure.close();
    assert.ok(fs.existsSync(knownHosts));
  });

  test('a wrong password is SftpAuthError; an encrypted default key is skipped with a warning', async () => {
    const sshDir = path.join(home, '.ssh');
    const key = path.join(sshDir, 'id_ed25519');
    const r = await runQuiet('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass phrase', '-f', key]);
    assert.equal(r, 0);
    const warnings: string[] = [];
    try {
      await assert.rejects(connect(url('alice', 'wrong'), { onWarning: (m) => warnings.push(m) }), SftpAuthError);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /id_ed25519.*encrypted/);
    } finally {
      await fs.promises.rm(key, { force: true });
      await fs.promises.rm(`${key}.pub`, { force: true });
    }
  });

  test('CLI: get, ls, put; unknown host key and wrong password fail with one line', async () => {
    const cwd = path.join(work.dir, 'cli');
    await fs.promises.mkdir(cwd);
    let r = await runCli(['get', `${url()}pub/data.bin`], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(cwd, 'data.bin'))), sha256(fs.readFileSync(path.join(srv.root, 'pub', 'data.bin'))));
    r = await runCli(['ls', '--names', url()], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').includes('hello.txt'), true, r.stdout);
    r = await runCli(['put', path.join(cwd, 'data.bin'), url('alice', 'secret')], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(srv.aliceHome, 'data.bin'))), sha256(fs.readFileSync(path.join(cwd, 'data.bin'))));
    // No user in the URL: login and password from ~/.netrc.
    await fs.promises.writeFile(path.join(home, '.netrc'), 'machine 127.0.0.1 login alice password secret\n');
    r = await runCli(['ls', '--names', `sftp://127.0.0.1:${port}/`], { cwd, env: env() });
    await fs.promises.rm(path.join(home, '.netrc'));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes('big.bin'), r.stdout);
    const stranger = path.join(work.dir, 'nohome');
    r = await runCli(['get', `${url()}hello.txt`], { cwd, env: { HOME: stranger, NETRC: path.join(stranger, '.netrc') } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^wharf: .*known_hosts.*ssh-keyscan -p \d+ 127\.0\.0\.1/);
    r = await runCli(['get', '-k', `${url()}hello.txt`, path.join(cwd, 'k.txt')], { cwd, env: { HOME: stranger, NETRC: path.join(stranger, '.netrc') } });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['get', `${url('alice', 'wrong')}big.bin`], { cwd, env: env() });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^wharf: authentication failed for alice@127\.0\.0\.1/);
  });
});

/** Runs a short command with a hard timeout; resolves with its exit status. */
function runQuiet(cmd: string, args: string[]): Promise<number | null> {
  return Promise.resolve(spawnSync(cmd, args, { timeout: 30_000, stdio: 'ignore' }).status);
}
