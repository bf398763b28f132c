/**
 * The SFTP twins of the FTP security tests: the path jail (`..`, absolute
 * paths, symlinks in a home that lead outside), the anonymous area
 * (read-only, the create-only drop box, off unless `[sftp] anonymous`),
 * a read-only user, and the anonymous cap counted together with FTP.
 * Driven by OpenSSH's sftp, paramiko and curl; the disk is checked too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, readTree } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';
import { RawSession } from '../helpers/raw.js';
import { curlSftp, holdParamiko, jsonLines, makeKeys, paramiko, sftpBatch, sshCommand, startSftp, type Login, type TestKeys } from '../helpers/sftp.js';

let keys: TestKeys;
before(async () => {
  keys = await makeKeys();
});
after(() => keys.cleanup());

const ALICE: Login = { user: 'alice', password: 'secret' };
const ANON: Login = { user: 'anonymous', password: 'guest@example.org' };
const SECRET = 'top secret, outside every root\n';

test('traversal: ../ and absolute paths stay inside the home (OpenSSH sftp, curl --path-as-is)', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  await fs.writeFile(path.join(srv.dir, 'secret.txt'), SECRET);
  await fs.writeFile(path.join(srv.aliceHome, 'mine.txt'), 'mine\n');
  const o = (n: string) => path.join(tmp, n);
  const r = await sftpBatch(port, ALICE, [
    `-get ../secret.txt ${o('1')}`,
    `-get ../../../etc/passwd ${o('2')}`,
    `-get /etc/passwd ${o('3')}`,
    `-get ${srv.dir}/secret.txt ${o('4')}`,
    'ls -1 ../../..',
    'cd ../../..',
    'pwd',
  ]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await fs.readdir(tmp), [], 'nothing was downloaded');
  for (const p of ['/../secret.txt', '/../../../etc/passwd', '/etc/passwd']) assert.ok(r.stderr.includes(`File "${p}" not found.`), `${p}: ${describe(r)}`);
  const out = r.stdout.toString('utf8');
  assert.match(out, /^sftp> ls -1 \.\.\/\.\.\/\.\.\n\.\.\/\.\.\/\.\.\/mine\.txt\n/m, out);
  assert.match(out, /^Remote working directory: \/$/m, out);
  for (const url of ['../secret.txt', '%2e%2e/secret.txt', '../../../../../../etc/passwd']) {
    const c = await curlSftp(port, 'alice', 'secret', url, ['--path-as-is']);
    assert.equal(c.code, 78, `${url}: ${describe(c)}`);
    assert.equal(c.stdout.length, 0);
  }
});

const SYMLINKS = `
t, s = connect(sys.argv[1])
for name, fn in [
    ('listing', lambda: sorted(s.listdir('.'))),
    ('list_escape', lambda: s.listdir('escape')),
    ('read_leak', lambda: s.open('leak.txt').read().decode()),
    ('read_via_dir', lambda: s.open('escape/secret.txt').read().decode()),
    ('stat_leak', lambda: s.stat('leak.txt').st_size),
    ('lstat_leak', lambda: s.lstat('leak.txt').st_size),
    ('write_leak', lambda: s.open('leak.txt', 'w').write('overwritten')),
    ('write_via_dir', lambda: s.open('escape/new.txt', 'w').write('new')),
    ('append_leak', lambda: s.open('leak.txt', 'a').write('more')),
    ('mkdir_via_dir', lambda: s.mkdir('escape/made')),
    ('rename_into', lambda: s.rename('mine.txt', 'escape/mine.txt')),
    ('setstat_leak', lambda: s.utime('leak.txt', (0, 0))),
    ('symlink', lambda: s.symlink('/etc/passwd', 'pw')),
    ('readlink', lambda: s.readlink('leak.txt')),
]:
    out(name=name, **attempt(fn))
t.close()
`;

test('a symlink in the home that leads outside is not followed for reads, writes or listings', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const outside = path.join(srv.dir, 'outside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), SECRET);
  await fs.writeFile(path.join(srv.aliceHome, 'mine.txt'), 'mine\n');
  await fs.symlink(outside, path.join(srv.aliceHome, 'escape'));
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(srv.aliceHome, 'leak.txt'));
  const r = await paramiko(SYMLINKS, [port]);
  assert.equal(r.code, 0, describe(r));
  const v = Object.fromEntries(jsonLines(r).map((l) => [l.name, l])) as Record<string, { ok: boolean; value?: unknown; errno?: number | null; text?: string }>;
  assert.deepEqual(v.listing?.value, ['mine.txt'], 'links leading out are not listed');
  for (const name of [
    'list_escape',
    'read_leak',
    'read_via_dir',
    'stat_leak',
    'lstat_leak',
    'write_leak',
    'write_via_dir',
    'append_leak',
    'mkdir_via_dir',
    'rename_into',
    'setstat_leak',
    'symlink',
    'readlink',
  ]) {
    assert.equal(v[name]?.ok, false, `${name}: ${JSON.stringify(v[name])}`);
    assert.ok(!JSON.stringify(v[name]).includes('secret') && !JSON.stringify(v[name]).includes(srv.dir), `${name} reveals nothing: ${JSON.stringify(v[name])}`);
  }
  // OpenSSH's view: the same.
  const o = await sftpBatch(port, ALICE, ['ls -la', `-get leak.txt ${path.join(tmp, 'leak.txt')}`, '-ls escape']);
  assert.equal(o.code, 0, describe(o));
  const shown = o.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('sftp> '));
  assert.equal(shown.length, 1, describe(o));
  assert.match(shown[0] ?? '', /^-rw-r--r--\s.*\s5 .* mine\.txt$/, describe(o));
  assert.ok(o.stderr.includes('File "/leak.txt" not found.') && o.stderr.includes('"/escape" not found'), describe(o));
  assert.deepEqual(await fs.readdir(tmp), []);
  // Nothing outside changed, and alice's home holds what it held.
  assert.deepEqual(await fs.readdir(outside), ['secret.txt']);
  assert.equal(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8'), SECRET);
  assert.deepEqual((await fs.readdir(srv.aliceHome)).sort(), ['escape', 'leak.txt', 'mine.txt']);
  assert.equal((await fs.lstat(path.join(srv.aliceHome, 'leak.txt'))).isSymbolicLink(), true);
});

test('anonymous: read-only outside the drop box', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const before = await readTree(srv.root);
  const local = path.join(tmp, 'n.txt');
  await fs.writeFile(local, 'new\n');
  const r = await sftpBatch(port, ANON, [
    `get hello.txt ${path.join(tmp, 'hello.txt')}`,
    'ls -l pub',
    `-put ${local} new.txt`,
    `-put ${local} pub/new.txt`,
    `-put ${local} hello.txt`,
    '-mkdir pub/x',
    '-rm hello.txt',
    '-rmdir pub',
    '-rename hello.txt h.txt',
    '-chmod 777 hello.txt',
  ]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(await fs.readFile(path.join(tmp, 'hello.txt'), 'utf8'), 'Hello, world!\n');
  assert.match(r.stdout.toString('utf8'), /^-rw-r--r--\s.*\s65536 .* data\.bin$/m, describe(r));
  for (const line of [
    'dest open "/new.txt": Permission denied',
    'dest open "/pub/new.txt": Permission denied',
    'dest open "/hello.txt": Permission denied',
    'remote mkdir "/pub/x": Permission denied',
    'remote delete /hello.txt: Permission denied',
    'remote rmdir "/pub": Permission denied',
    'remote rename "/hello.txt" to "/h.txt": Permission denied',
    'remote setstat "/hello.txt": Permission denied',
  ])
    assert.ok(r.stderr.includes(line), `${line}\n${describe(r)}`);
  assert.deepEqual(await readTree(srv.root), before);
});

test('anonymous drop box: a new file may be put; it cannot be listed, read, overwritten or removed there', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const first = path.join(tmp, 'first.txt');
  const second = path.join(tmp, 'second.txt');
  await fs.writeFile(first, 'first\n');
  await fs.writeFile(second, 'second, longer\n');
  const r = await sftpBatch(port, ANON, [
    `put ${first} incoming/drop.txt`,
    '-ls incoming',
    `-get incoming/drop.txt ${path.join(tmp, 'got.txt')}`,
    `-put ${second} incoming/drop.txt`,
    `-reput ${second} incoming/drop.txt`,
    '-rm incoming/drop.txt',
    '-rename incoming/drop.txt incoming/other.txt',
    '-mkdir incoming/sub',
  ]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await fs.readdir(path.join(srv.root, 'incoming')), ['drop.txt']);
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');
  assert.ok(!(await fs.readdir(tmp)).includes('got.txt'));
  for (const line of [
    'remote readdir("/incoming/"): Permission denied',
    'dest open "/incoming/drop.txt": Permission denied',
    'remote delete /incoming/drop.txt: Permission denied',
    'remote rename "/incoming/drop.txt" to "/incoming/other.txt": Permission denied',
    'remote mkdir "/incoming/sub": Permission denied',
  ])
    assert.ok(r.stderr.includes(line), `${line}\n${describe(r)}`);
  // At the protocol level: reading, statting and opening for append are refused with EACCES.
  const p = await paramiko(
    `t, s = connect(sys.argv[1], 'anonymous', 'guest@example.org')
for name, fn in [('read', lambda: s.open('incoming/drop.txt').read()), ('stat', lambda: s.stat('incoming/drop.txt')),
                 ('append', lambda: s.open('incoming/drop.txt', 'a').write('x')), ('list', lambda: s.listdir('incoming'))]:
    out(name=name, **attempt(fn))
t.close()`,
    [port],
  );
  assert.equal(p.code, 0, describe(p));
  assert.deepEqual(
    jsonLines(p).map((l) => [l.name, l.ok, l.errno]),
    [
      ['read', false, 13],
      ['stat', false, 13],
      ['append', false, 13],
      ['list', false, 13],
    ],
  );
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');
});

test('anonymous is refused over SFTP when [sftp] anonymous = false; users and anonymous FTP are not affected', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key, { sftp: { anonymous: false } });
  const failed = waitForEvent(srv.server, 'login-failed', (e) => e.protocol === 'sftp');
  const anon = await sftpBatch(port, ANON, ['ls']);
  assert.notEqual(anon.code, 0, describe(anon));
  assert.match(anon.stderr, /Permission denied/, describe(anon));
  assert.equal((await failed).reason, 'anonymous-disabled');
  const ftp = await RawSession.open(srv.port);
  try {
    await ftp.login('anonymous', 'guest@example.org');
  } finally {
    ftp.close();
  }
  const alice = await sftpBatch(port, ALICE, ['ls']);
  assert.equal(alice.code, 0, describe(alice));
});

test('reader (list and read only): get and ls work; put, rm, mkdir, rename are refused with "Permission denied"', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const local = path.join(tmp, 'up.txt');
  await fs.writeFile(local, 'up\n');
  const r = await sftpBatch(port, { user: 'reader', password: 'secret' }, [
    `get report.txt ${path.join(tmp, 'report.txt')}`,
    'ls -l',
    `-put ${local} up.txt`,
    `-put ${local} report.txt`,
    '-rm report.txt',
    '-mkdir d',
    '-rename report.txt r.txt',
  ]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(await fs.readFile(path.join(tmp, 'report.txt'), 'utf8'), 'quarterly numbers\n');
  for (const line of [
    'dest open "/up.txt": Permission denied',
    'dest open "/report.txt": Permission denied',
    'remote delete /report.txt: Permission denied',
    'remote mkdir "/d": Permission denied',
    'remote rename "/report.txt" to "/r.txt": Permission denied',
  ])
    assert.ok(r.stderr.includes(line), `${line}\n${describe(r)}`);
  assert.deepEqual(await fs.readdir(srv.readerHome), ['report.txt']);
  assert.equal(await fs.readFile(path.join(srv.readerHome, 'report.txt'), 'utf8'), 'quarterly numbers\n');
  const c = await curlSftp(port, 'reader', 'secret', 'up.txt', ['-T', local]);
  assert.equal(c.code, 9, describe(c));
  assert.match(c.stderr, /Permission denied/, describe(c));
});

const HOLD_ANONYMOUS = `
t, s = connect(sys.argv[1], 'anonymous', 'guest@example.org')
s.listdir('.')
out(ready=True)
sys.stdin.read()
t.close()
`;

test('the anonymous cap (max_connections = 1) counts FTP and SFTP sessions together', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key, { anonymous: { max_connections: 1 } });
  // An anonymous FTP session holds the only slot: SFTP anonymous is refused.
  const ftp = await RawSession.open(srv.port);
  const ftpGone = waitForEvent(srv.server, 'logout', (e) => e.protocol === 'ftp' && e.anonymous);
  try {
    await ftp.login('anonymous', 'guest@example.org');
    const full = waitForEvent(srv.server, 'login-failed', (e) => e.protocol === 'sftp');
    const r = await sftpBatch(port, ANON, ['ls']);
    assert.notEqual(r.code, 0, describe(r));
    assert.equal((await full).reason, 'anonymous-full');
  } finally {
    ftp.close();
  }
  await ftpGone;
  // Now an anonymous SFTP session holds it: FTP anonymous gets 421, a user still gets in.
  const sftpGone = waitForEvent(srv.server, 'logout', (e) => e.protocol === 'sftp' && e.anonymous);
  const held = holdParamiko(HOLD_ANONYMOUS, [port]);
  try {
    await held.waitFor(/"ready": true/);
    const again = await RawSession.open(srv.port);
    try {
      assert.equal((await again.read())?.code, 220);
      assert.equal((await again.cmd('USER anonymous')).code, 331);
      const pass = await again.cmd('PASS guest@example.org');
      assert.equal(pass.code, 421, pass.raw);
      assert.match(pass.raw, /Too many anonymous users/);
    } finally {
      again.close();
    }
    const alice = await sftpBatch(port, ALICE, ['ls']);
    assert.equal(alice.code, 0, describe(alice));
  } finally {
    await held.close();
  }
  // The slot is free again once the SFTP session ended.
  await sftpGone;
  const after = await sftpBatch(port, ANON, ['ls']);
  assert.equal(after.code, 0, describe(after));
});

test('a logged-in user gets no shell, no exec, no other subsystem and no port forwarding', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key);
  const attempts: [string, string[], string[], RegExp][] = [
    ['exec', [], ['id'], /exec request failed/],
    ['shell', [], [], /shell request failed/],
    ['subsystem', ['-s'], ['netconf'], /subsystem request failed/],
    // A tunnel to the server's own FTP port would be a proxy into its network.
    ['direct-tcpip', ['-W', `127.0.0.1:${srv.port}`], [], /stdio forwarding failed|open failed/],
    ['tcpip-forward', ['-N', '-oExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9'], [], /remote port forwarding failed/],
  ];
  for (const [what, pre, args, text] of attempts) {
    const r = await sshCommand(port, ALICE, pre, args);
    assert.equal(r.code, 255, `${what}: ${describe(r)}`);
    assert.match(r.stderr, text, `${what}: ${describe(r)}`);
    assert.equal(r.stdout.length, 0, `${what}: ${describe(r)}`);
  }
});

const CHANNELS = `
t = paramiko.Transport(('127.0.0.1', int(sys.argv[1])))
t.connect(username='anonymous', password='guest@example.org')
clients = []
refused = None
for i in range(12):
    try:
        clients.append(paramiko.SFTPClient.from_transport(t))
    except Exception as e:
        refused = type(e).__name__
        break
opened = len(clients)
clients.pop().close()
again = attempt(lambda: paramiko.SFTPClient.from_transport(t).listdir('.') is not None)
out(opened=opened, refused=refused, again=again['ok'])
t.close()
`;

test('one connection cannot pile up SFTP sessions (10, as OpenSSH\u2019s MaxSessions); a closed one frees its place', async (t) => {
  const { port } = await startSftp(t, keys.host.key);
  const r = await paramiko(CHANNELS, [port]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(jsonLines(r), [{ opened: 10, refused: 'ChannelException', again: true }]);
});
