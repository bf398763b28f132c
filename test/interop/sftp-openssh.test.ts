/**
 * Interop: OpenSSH's `sftp` (batch mode) against Wharf's SFTP room, with a
 * password (through sshpass) and with a key in `authorized_keys`. What is
 * checked is what a user sees: bytes on both disks, `ls -l` lines, exit
 * codes and error text; and that failed SFTP logins feed the same delay
 * and ban as FTP's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bytes, describe, sha256 } from '../helpers/clients.js';
import { waitForEvent, waitForEvents } from '../helpers/events.js';
import { RawSession } from '../helpers/raw.js';
import { makeKeys, sftpBatch, sshKeygen, startSftp, usersWithKeys, type Login, type TestKeys } from '../helpers/sftp.js';

let keys: TestKeys;
before(async () => {
  keys = await makeKeys();
});
after(() => keys.cleanup());

const ALICE: Login = { user: 'alice', password: 'secret' };
const FIVE_MIB = 5 * 1024 * 1024;

for (const via of ['password', 'key'] as const) {
  test(`OpenSSH sftp (${via}): put and get 5 MiB byte-exact; ls -l shows it`, async (t) => {
    const { srv, port, tmp } = await startSftp(t, keys.host.key, { users: await usersWithKeys([keys.client.pub]) });
    const login: Login = via === 'password' ? ALICE : { user: 'alice', key: keys.client.key };
    const data = bytes(FIVE_MIB, 41);
    const src = path.join(tmp, 'big.bin');
    await fs.writeFile(src, data);
    const back = path.join(tmp, 'back.bin');
    const r = await sftpBatch(port, login, [`put ${src} big.bin`, 'ls -l', `get big.bin ${back}`, 'pwd']);
    assert.equal(r.code, 0, describe(r));
    assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'big.bin'))), sha256(data));
    assert.equal(sha256(await fs.readFile(back)), sha256(data));
    const out = r.stdout.toString('utf8');
    assert.match(out, /^-rw-r--r--\s+1\s+\S+\s+\S+\s+5242880 [A-Z][a-z]{2} [ \d]\d [ \d]\d:?\d\d big\.bin$/m, out);
    assert.match(out, /^Remote working directory: \/$/m, out);
  });
}

test('OpenSSH sftp (key): RSA (rsa-sha2-*) and ECDSA keys in authorized_keys log in too', async (t) => {
  const [rsa, ecdsa] = await Promise.all([sshKeygen(keys.dir, 'rsa_key', 'rsa'), sshKeygen(keys.dir, 'ecdsa_key', 'ecdsa')]);
  const { port } = await startSftp(t, keys.host.key, { users: await usersWithKeys([rsa.pub, keys.client.pub, ecdsa.pub]) });
  for (const k of [rsa, ecdsa]) {
    const r = await sftpBatch(port, { user: 'alice', key: k.key }, ['pwd']);
    assert.equal(r.code, 0, describe(r));
    assert.match(r.stdout.toString('utf8'), /^Remote working directory: \/$/m, describe(r));
  }
});

test('OpenSSH sftp: mkdir, ls -l of a directory, rm, rmdir; a non-empty directory is not removed', async (t) => {
  const { srv, port, tmp } = await setupSmall(t);
  const src = path.join(tmp, 'small.txt');
  await fs.writeFile(src, 'small\n');
  const r = await sftpBatch(port, ALICE, [
    'mkdir sub',
    `put ${src} sub/a.txt`,
    'ls -l',
    'ls -l sub',
    'rm sub/a.txt',
    'rmdir sub',
    'mkdir keep',
    `put ${src} keep/b.txt`,
    '-rmdir keep',
    'ls -1',
  ]);
  assert.equal(r.code, 0, describe(r));
  const out = r.stdout.toString('utf8');
  assert.match(out, /^drwx.*\ssub$/m, out);
  assert.match(out, /^-rw-r--r--\s.*\s6 .*\sa\.txt$/m, out);
  assert.match(r.stderr, /remote rmdir "\/keep": Failure/, describe(r));
  assert.deepEqual((await fs.readdir(srv.aliceHome)).sort(), ['keep']);
  assert.deepEqual(await fs.readdir(path.join(srv.aliceHome, 'keep')), ['b.txt']);
});

test('OpenSSH sftp (key): another key, or alice\u2019s key offered for reader, is refused (and not counted as a failed login)', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key, { users: await usersWithKeys([keys.client.pub]) });
  const failures: string[] = [];
  const onFailure = (e: { user: string }) => failures.push(e.user);
  srv.server.on('login-failed', onFailure);
  t.after(() => srv.server.off('login-failed', onFailure));
  const stranger = await sftpBatch(port, { user: 'alice', key: keys.stranger.key }, ['ls']);
  assert.notEqual(stranger.code, 0, describe(stranger));
  assert.match(stranger.stderr, /Permission denied \(password,publickey\)/, describe(stranger));
  const reader = await sftpBatch(port, { user: 'reader', key: keys.client.key }, ['ls']);
  assert.notEqual(reader.code, 0, describe(reader));
  assert.match(reader.stderr, /Permission denied/, describe(reader));
  // The client only asked whether the key would do; no signed attempt, so nothing for the throttle.
  assert.deepEqual(failures, []);
});

test('OpenSSH sftp: rename onto an existing file replaces it (posix-rename@openssh.com)', async (t) => {
  const { srv, port } = await setupSmall(t);
  await fs.writeFile(path.join(srv.aliceHome, 'new.txt'), 'the new one\n');
  await fs.writeFile(path.join(srv.aliceHome, 'old.txt'), 'the old one\n');
  const renamed = waitForEvent(srv.server, 'rename');
  const r = await sftpBatch(port, ALICE, ['rename new.txt old.txt', 'ls -1']);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await fs.readdir(srv.aliceHome), ['old.txt']);
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'old.txt'), 'utf8'), 'the new one\n');
  const e = await renamed;
  assert.deepEqual([e.from, e.path, e.protocol], ['/new.txt', '/old.txt', 'sftp']);
});

test('OpenSSH sftp: df shows the space of the disk (statvfs@openssh.com); a memory root has no df', async (t) => {
  const { srv, port } = await setupSmall(t);
  const r = await sftpBatch(port, ALICE, ['df', 'df -i']);
  assert.equal(r.code, 0, describe(r));
  // `df`: Size Used Avail (Root) %Capacity in KiB; `df -i`: Inodes Used Avail (Root) %Capacity.
  const rows = r.stdout
    .toString()
    .split('\n')
    .filter((l) => /^\s*\d+\s+\d+\s+\d+\s+\d+\s+\d+%$/.test(l))
    .map((l) => l.trim().split(/\s+/).map(Number));
  assert.equal(rows.length, 2, describe(r));
  const disk = await fs.statfs(srv.aliceHome);
  const sizeKiB = (disk.blocks * disk.bsize) / 1024;
  assert.ok(Math.abs((rows[0]?.[0] ?? 0) - sizeKiB) <= sizeKiB * 0.01, `size ${rows[0]?.[0]} KiB vs the disk's ${sizeKiB}`);
  assert.equal(rows[1]?.[0], disk.files);
  const mem = await startSftp(t, keys.host.key, { anonymous: { enabled: true, root: 'memory:' } });
  const m = await sftpBatch(mem.port, { user: 'anonymous', password: 'x@y' }, ['df']);
  assert.notEqual(m.code, 0);
  assert.match(m.stderr, /does not support statvfs@openssh\.com/);
});

test('OpenSSH sftp: reput completes a partial upload byte-exact', async (t) => {
  const { srv, port, tmp } = await setupSmall(t);
  const data = bytes(3 * 1024 * 1024 + 12_345, 42);
  const src = path.join(tmp, 'resume.bin');
  await fs.writeFile(src, data);
  // What an interrupted transfer left (the server itself never leaves half files: this came from elsewhere).
  await fs.writeFile(path.join(srv.aliceHome, 'resume.bin'), data.subarray(0, 1_234_567));
  const transfer = waitForEvent(srv.server, 'transfer', (e) => e.direction === 'upload');
  const r = await sftpBatch(port, ALICE, [`reput ${src} resume.bin`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'resume.bin'))), sha256(data));
  // Only the missing tail crossed the wire (OpenSSH resumes with an append open).
  const e = await transfer;
  assert.equal(e.bytes, data.length - 1_234_567);
  assert.equal(e.ok, true);
});

test('OpenSSH sftp: put -p keeps the mtime on the server, get -p on the client', async (t) => {
  const { srv, port, tmp } = await setupSmall(t);
  const src = path.join(tmp, 'dated.txt');
  await fs.writeFile(src, 'dated\n');
  const when = new Date('2001-02-03T04:05:06Z');
  await fs.utimes(src, when, when);
  const old = new Date('1999-12-31T23:59:58Z');
  await fs.writeFile(path.join(srv.aliceHome, 'remote.txt'), 'remote\n');
  await fs.utimes(path.join(srv.aliceHome, 'remote.txt'), old, old);
  const r = await sftpBatch(port, ALICE, [`put -p ${src} dated.txt`, `get -p remote.txt ${path.join(tmp, 'remote.txt')}`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal((await fs.stat(path.join(srv.aliceHome, 'dated.txt'))).mtime.getTime(), when.getTime());
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'dated.txt'), 'utf8'), 'dated\n');
  assert.equal((await fs.stat(path.join(tmp, 'remote.txt'))).mtime.getTime(), old.getTime());
});

test('OpenSSH sftp: a wrong password is refused; the failure delay grows with FTP failures from the same address', async (t) => {
  const { srv, port } = await setupSmall(t, { server: { login_failure_delay: 0.25 } });
  // Two failed FTP logins (0.25 s, then 0.5 s) ...
  for (let i = 0; i < 2; i++) {
    const ftp = await RawSession.open(srv.port);
    try {
      assert.equal((await ftp.read())?.code, 220);
      assert.equal((await ftp.cmd('USER alice')).code, 331);
      assert.equal((await ftp.cmd('PASS wrong')).code, 530);
    } finally {
      ftp.close();
    }
  }
  // ... so the SFTP one is the third from this address and waits 1 s before its answer.
  const failed = waitForEvent(srv.server, 'login-failed', (e) => e.protocol === 'sftp').then((e) => ({ e, at: performance.now() }));
  const gone = waitForEvent(srv.server, 'disconnect', (e) => e.protocol === 'sftp').then(() => performance.now());
  const r = await sftpBatch(port, { user: 'alice', password: 'wrong' }, ['ls']);
  assert.notEqual(r.code, 0, describe(r));
  assert.match(r.stderr, /Permission denied/, describe(r));
  const { e, at } = await failed;
  assert.equal(e.reason, 'bad-credentials');
  // The client hung up only after the refusal, which came at least 1 s after the failure was counted.
  const waited = (await gone) - at;
  assert.ok(waited >= 950, `the SFTP refusal came ${Math.round(waited)} ms after the failure; want >= 1000 (one throttle with FTP)`);
});

test('OpenSSH sftp: three failed SFTP logins ban the address for FTP and SFTP alike', async (t) => {
  const { srv, port } = await setupSmall(t, { server: { ban_threshold: 3, login_failure_delay: 0 } });
  const ban = waitForEvent(srv.server, 'ban');
  const failures = waitForEvents(srv.server, 'login-failed', 3);
  for (let i = 0; i < 3; i++) {
    const r = await sftpBatch(port, { user: 'alice', password: `wrong${i}` }, ['ls']);
    assert.notEqual(r.code, 0, describe(r));
  }
  assert.deepEqual(
    (await failures).map((e) => e.protocol),
    ['sftp', 'sftp', 'sftp'],
  );
  assert.equal((await ban).remote, '127.0.0.1');
  const ftp = await RawSession.open(srv.port);
  try {
    const greeting = await ftp.read();
    assert.equal(greeting?.code, 421, greeting?.raw);
  } finally {
    ftp.close();
  }
  const refused = waitForEvent(srv.server, 'connection-refused', (e) => e.reason === 'banned');
  const right = await sftpBatch(port, ALICE, ['ls']);
  assert.notEqual(right.code, 0, describe(right));
  await refused;
});

test('OpenSSH sftp: failed FTP logins count toward the ban of SFTP', async (t) => {
  const { srv, port } = await setupSmall(t, { server: { ban_threshold: 3, login_failure_delay: 0 } });
  const ban = waitForEvent(srv.server, 'ban');
  for (let i = 0; i < 2; i++) {
    const ftp = await RawSession.open(srv.port);
    try {
      await ftp.read();
      await ftp.cmd('USER alice');
      assert.equal((await ftp.cmd('PASS wrong')).code, 530);
    } finally {
      ftp.close();
    }
  }
  const third = await sftpBatch(port, { user: 'alice', password: 'wrong' }, ['ls']);
  assert.notEqual(third.code, 0, describe(third));
  await ban;
  const right = await sftpBatch(port, ALICE, ['ls']);
  assert.notEqual(right.code, 0, describe(right));
  assert.doesNotMatch(right.stdout.toString('utf8'), /sftp> ls/, describe(right));
});

/** A server with the default users (password logins). */
function setupSmall(t: Parameters<typeof startSftp>[0], overrides: Record<string, unknown> = {}) {
  return startSftp(t, keys.host.key, overrides);
}
