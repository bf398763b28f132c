/** The ftp> shell over sftp:// URLs: against Wharf's SFTP server (password) and OpenSSH's sshd (key). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bytes, makeTree, runCli, sha256, tempDir, type CliResult } from '../helpers/peers.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sshKeygen, type KeyPair } from '../helpers/sftp.js';
import { knownHostsLine, startSshd, writeKnownHosts, type Sshd } from './sftp-helpers.js';

const BIG = bytes(700_000, 5);

describe('wharf shell over SFTP', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let srv: TestServer;
  let port: number;
  let hostKey: KeyPair;
  let home: string;
  let sshd: Sshd;

  before(async () => {
    work = await tempDir('wharf-shell-sftp-');
    hostKey = await sshKeygen(work.dir, 'host');
    srv = await startServer({ sftp: { port: 0, host_keys: [hostKey.key], anonymous: true } });
    const p = srv.server.addresses.sftp?.port;
    if (p === undefined) throw new Error('no SFTP listener');
    port = p;
    sshd = await startSshd(work.dir);
    home = path.join(work.dir, 'home');
    await writeKnownHosts(home, [knownHostsLine(port, hostKey.pub), knownHostsLine(sshd.port, sshd.hostKey.pub)]);
    await makeTree(path.join(work.dir, 'local'), { 'up.bin': BIG });
  });
  after(async () => {
    await sshd?.stop();
    await srv?.close();
    await work?.cleanup();
  });

  /** Runs `wharf shell [args]` on a script from the local directory. */
  async function shell(lines: string[], args: string[] = []): Promise<CliResult> {
    const r = await runCli(['shell', ...args], {
      cwd: path.join(work.dir, 'local'),
      env: { HOME: home, NETRC: path.join(home, '.netrc') },
      input: `${lines.join('\n')}\n`,
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    return r;
  }

  test('alice by password: pwd, put, ls, dir, size, get, rename, delete, mkdir and rmdir, byte-exact', async () => {
    const r = await shell(
      [
        `open sftp://alice:secret@127.0.0.1:${port}/`,
        'pwd',
        'mkdir box',
        'cd box',
        'put up.bin',
        'ls',
        'dir',
        'size up.bin',
        'get up.bin back.bin',
        'rename up.bin kept.bin',
        'ls',
        'delete kept.bin',
        'cd /',
        'rmdir box',
        'ls',
        'status',
      ],
      ['--verbose'],
    );
    const out = r.stdout.split('\n');
    assert.ok(out.includes('Connected to 127.0.0.1.'), r.stdout);
    assert.ok(out.includes('Remote working directory: /'), r.stdout);
    assert.ok(out.includes('up.bin'), r.stdout);
    assert.ok(
      out.some((l) => /^-rw\S*\s.*\s700000\s.*up\.bin$/.test(l)),
      `dir shows the long name: ${r.stdout}`,
    );
    assert.ok(out.includes(`up.bin\t${BIG.length}`), r.stdout);
    assert.match(r.stdout, new RegExp(`^${BIG.length} bytes sent in `, 'm'));
    assert.match(r.stdout, new RegExp(`^${BIG.length} bytes received in `, 'm'));
    assert.ok(out.includes('kept.bin'), r.stdout);
    assert.ok(out.includes('Protocol: SFTP (SSH); logged in: yes'), r.stdout);
    assert.equal(sha256(await fs.promises.readFile(path.join(work.dir, 'local', 'back.bin'))), sha256(BIG));
    assert.equal(fs.existsSync(path.join(srv.aliceHome, 'box')), false, 'rmdir removed the directory');
    assert.equal(r.stderr, '');
  });

  test('FTP-only commands say so in one line; a failed get is one sftp: line and leaves no file', async () => {
    const r = await shell([`open sftp://anonymous@127.0.0.1:${port}/pub`, 'quote NOOP', 'user bob', 'ascii', 'get missing.bin', 'pwd']);
    const out = r.stdout.split('\n').filter(Boolean);
    assert.deepEqual(out.slice(0, 3), ['quote: not available over SFTP.', 'user: not available over SFTP.', 'ascii: not available over SFTP (files travel as they are).']);
    assert.match(out[3] ?? '', /^sftp: open \/pub\/missing\.bin: no such file/);
    assert.equal(out[4], 'Remote working directory: /pub');
    assert.equal(fs.existsSync(path.join(work.dir, 'local', 'missing.bin')), false, 'a refused get leaves no local file');
  });

  test('an unknown host key is one sftp: line and the shell stays unconnected; -k accepts it', async () => {
    const stranger = path.join(work.dir, 'stranger-home');
    await writeKnownHosts(stranger, []);
    const run = (args: string[]): Promise<CliResult> =>
      runCli(['shell', ...args], { cwd: work.dir, env: { HOME: stranger, NETRC: path.join(stranger, '.netrc') }, input: `open sftp://anonymous@127.0.0.1:${port}/\nls\n` });
    let r = await run([]);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0] ?? '', /^sftp: .*host key.*ssh-keyscan/i);
    assert.equal(lines[1], 'Not connected.');
    r = await run(['-k']);
    assert.ok(r.stdout.split('\n').includes('hello.txt'), r.stdout);
  });

  test('against OpenSSH sshd with --identity: ls, get and put byte-exact', async () => {
    const remote = path.join(work.dir, 'remote');
    await makeTree(remote, { 'big.bin': BIG });
    const r = await shell([`open sftp://root@127.0.0.1:${sshd.port}${remote}`, 'ls', 'get big.bin from-sshd.bin', 'put up.bin to-sshd.bin'], ['--identity', sshd.clientKey.key]);
    assert.ok(r.stdout.split('\n').includes('big.bin'), r.stdout);
    assert.equal(sha256(await fs.promises.readFile(path.join(work.dir, 'local', 'from-sshd.bin'))), sha256(BIG));
    assert.equal(sha256(await fs.promises.readFile(path.join(remote, 'to-sshd.bin'))), sha256(BIG));
  });
});
