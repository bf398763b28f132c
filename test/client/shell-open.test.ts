/** The ftp> shell's `open`: ports, URLs, credentials from the URL or ~/.netrc, and failures, against pyftpdlib. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTree, runCli, startPyftpdlib, tempDir, type CliResult, type Peer } from '../helpers/peers.js';

describe('wharf shell: open', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let py: Peer;
  let netrc: string;

  before(async () => {
    work = await tempDir();
    const root = path.join(work.dir, 'root');
    await makeTree(root, { 'welcome.txt': 'hi', 'pub/inner.txt': 'inner' });
    await fs.promises.chmod(root, 0o755);
    py = await startPyftpdlib({ root });
    netrc = path.join(work.dir, 'netrc');
  });
  after(async () => {
    await py?.close();
    await work?.cleanup();
  });

  /**
   * Runs `wharf shell --verbose [...args]` on a script (verbose, since a script
   * otherwise starts with verbose off), with $NETRC holding `netrcText` (no
   * file when undefined).
   */
  async function shell(lines: string[], netrcText?: string, args: string[] = ['--verbose']): Promise<CliResult> {
    await fs.promises.rm(netrc, { force: true });
    if (netrcText !== undefined) await fs.promises.writeFile(netrc, netrcText);
    const r = await runCli(['shell', ...args], { cwd: work.dir, env: { NETRC: netrc, HOME: work.dir }, input: `${lines.join('\n')}\n` });
    assert.equal(r.code, 0, r.stderr);
    return r;
  }

  test('a port out of range or not a number is refused before connecting', async () => {
    const r = await shell(['open 127.0.0.1 0', 'open 127.0.0.1 65536', 'open 127.0.0.1 abc', 'open 127.0.0.1 2.5', 'ls']);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), ['0: bad port number.', '65536: bad port number.', 'abc: bad port number.', '2.5: bad port number.', 'Not connected.']);
  });

  test('a refused connection or a bad URL is one ftp: line, and the shell stays unconnected', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const r = await shell([`open 127.0.0.1 ${closed}`, 'open ftp://[bad/', 'ls']);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0] ?? '', /^ftp: .*(ECONNREFUSED|refused)/i);
    assert.match(lines[1] ?? '', /^ftp: not a valid URL/);
    assert.equal(lines[2], 'Not connected.');
  });

  test('a second open is refused until close', async () => {
    const r = await shell([`open 127.0.0.1 ${py.port}`, `open 127.0.0.1 ${py.port}`, 'close', `open 127.0.0.1 ${py.port}`]);
    assert.match(r.stdout, /^Already connected to 127\.0\.0\.1, use close first\.$/m);
    assert.equal(r.stdout.match(/^Connected to 127\.0\.0\.1\.$/gm)?.length, 2);
  });

  test('with verbose off (where a script starts) open shows nothing; verbose shows Connected to and the greeting', async () => {
    let r = await shell([`open 127.0.0.1 ${py.port}`, 'user user secret'], undefined, []);
    assert.equal(r.stdout, '');
    r = await shell(['verbose', `open 127.0.0.1 ${py.port}`], undefined, []);
    assert.equal(r.stdout, 'Verbose mode on.\nConnected to 127.0.0.1.\n220 pyftpdlib ready\n221 Goodbye.\n', 'end of input closes the connection');
  });

  test('a URL gives the port (a port argument is then ignored), the user, the password and the directory', async () => {
    const r = await shell([`open ftp://user:secret@127.0.0.1:${py.port}/pub 1`, 'pwd']);
    assert.match(r.stdout, /^220 pyftpdlib ready$/m);
    assert.match(r.stdout, /^230 /m);
    assert.match(r.stdout, /^Remote system type is UNIX\.$/m);
    assert.match(r.stdout, /^Using binary mode to transfer files\.$/m);
    assert.match(r.stdout, /^257 "\/pub"/m);
  });

  test('a URL user without a password is asked for it; the URL user wins over ~/.netrc', async () => {
    let r = await shell([`open ftp://user@127.0.0.1:${py.port}`, 'secret', 'pwd']);
    assert.match(r.stdout, /^230 /m);
    assert.match(r.stdout, /^257 "\/"/m);
    r = await shell([`open ftp://user:wrong@127.0.0.1:${py.port}`, 'pwd'], 'machine 127.0.0.1 login user password secret\n');
    assert.match(r.stdout, /^Login failed\.$/m);
    assert.doesNotMatch(r.stdout, /^230 /m);
  });

  test('a URL directory that cannot be entered is not an error', async () => {
    const r = await shell([`open ftp://user:secret@127.0.0.1:${py.port}/missing`, 'pwd']);
    assert.match(r.stdout, /^550 /m);
    assert.match(r.stdout, /^257 "\/"/m);
  });

  test('without URL credentials, ~/.netrc logs in, unless -n; an entry without login does not', async () => {
    const entry = 'machine 127.0.0.1 login user password secret\n';
    let r = await shell([`open 127.0.0.1 ${py.port}`, 'pwd'], entry);
    assert.match(r.stdout, /^230 /m);
    assert.match(r.stdout, /^257 "\/"/m);
    r = await shell([`open ftp://127.0.0.1:${py.port}/pub`, 'pwd'], entry);
    assert.match(r.stdout, /^257 "\/pub"/m);
    r = await shell([`open 127.0.0.1 ${py.port}`, 'pwd'], 'machine other login user password secret\ndefault login anonymous password x@y\n');
    assert.match(r.stdout, /^230 /m, 'the default entry');
    for (const [text, args] of [
      [entry, ['-n']],
      ['machine 127.0.0.1 password secret\n', []],
      [undefined, []],
    ] as const) {
      r = await shell([`open 127.0.0.1 ${py.port}`, 'pwd'], text, ['--verbose', ...args]);
      assert.doesNotMatch(r.stdout, /^230 /m);
      assert.doesNotMatch(r.stdout, /Name \(/);
      assert.match(r.stdout, /^530 /m);
    }
  });

  test('--tls demands AUTH TLS of a server that has none', async () => {
    const r = await shell([`open 127.0.0.1 ${py.port}`, 'ls'], undefined, ['--verbose', '--tls']);
    assert.match(r.stdout, /^ftp: /m);
    assert.match(r.stdout, /^Not connected\.$/m);
    assert.doesNotMatch(r.stdout, /^Connected to/m);
  });
});
