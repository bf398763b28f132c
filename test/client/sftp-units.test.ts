/** Pure parts of the SFTP client: sftp:// URLs and known_hosts matching. */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { checkHostKey, FtpTimeoutError, hostMatches, isSftpUrl, knownHostName, parseKnownHosts, parseSftpUrl } from '../../src/client/index.js';
import { Watchdog } from '../../src/client/sftp/watchdog.js';

test('parseSftpUrl: credentials, port, absolute and ~ paths, directories', () => {
  assert.deepEqual(parseSftpUrl('sftp://bob:p%40ss@example.org:2222/srv/a%20b.txt'), {
    protocol: 'sftp',
    host: 'example.org',
    port: 2222,
    user: 'bob',
    password: 'p@ss',
    path: '/srv/a b.txt',
    isDirectory: false,
  });
  const home = parseSftpUrl('sftp://h/~/docs/');
  assert.equal(home.port, 22);
  assert.equal(home.path, '~/docs/');
  assert.equal(home.isDirectory, true);
  assert.equal(parseSftpUrl('sftp://h').path, '/');
  assert.equal(parseSftpUrl('sftp://[::1]:23/x').host, '::1');
  assert.equal(parseSftpUrl('sftp://u:@h/x').password, '');
  assert.throws(() => parseSftpUrl('ftp://h/x'), /not an sftp/);
  assert.ok(isSftpUrl('SFTP://h/') && !isSftpUrl('ftp://h/'));
});

test('known_hosts: plain, [host]:port, wildcard, negated and hashed names', () => {
  assert.equal(knownHostName('h', 22), 'h');
  assert.equal(knownHostName('h', 2222), '[h]:2222');
  assert.ok(hostMatches('a.example,h', 'h'));
  assert.ok(hostMatches('*.example.org', 'ftp.example.org'));
  assert.ok(!hostMatches('*.example.org,!bad.example.org', 'bad.example.org'));
  assert.ok(hostMatches('[h]:2222', '[h]:2222') && !hostMatches('h', '[h]:2222'));
  const salt = Buffer.from('0123456789abcdefghij');
  const hash = createHmac('sha1', salt).update('[10.0.0.1]:2200').digest('base64');
  assert.ok(hostMatches(`|1|${salt.toString('base64')}|${hash}`, '[10.0.0.1]:2200'));
  assert.ok(!hostMatches(`|1|${salt.toString('base64')}|${hash}`, '10.0.0.1'));
});

test('checkHostKey: known, unknown, changed and revoked', () => {
  const a = Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0\x01A');
  const b = Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0\x01B');
  const lines = parseKnownHosts(`# c\nh ssh-ed25519 ${a.toString('base64')}\n\n@cert-authority * ssh-ed25519 ${b.toString('base64')}\n`);
  assert.equal(lines.length, 1);
  assert.deepEqual(checkHostKey(lines, a), { status: 'known' });
  assert.deepEqual(checkHostKey(lines, b), { status: 'changed', line: 2 });
  assert.deepEqual(checkHostKey([], a), { status: 'unknown' });
  const revoked = parseKnownHosts(`@revoked * ssh-ed25519 ${a.toString('base64')}`);
  assert.deepEqual(checkHostKey(revoked, a), { status: 'revoked', line: 1 });
});

test('the reply watchdog: replies that keep coming hold it off; silence past the timeout fires it once and fails what waits', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'] });
  try {
    let fired = 0;
    const dog = new Watchdog(1000, () => fired++);
    // A long request while others keep being answered every 400 ms: never cut.
    let finishLong: (v: string) => void = () => undefined;
    const long = dog.track(new Promise<string>((resolve) => (finishLong = resolve)));
    for (let i = 0; i < 10; i++) {
      mock.timers.tick(400);
      await dog.track(Promise.resolve(i));
    }
    assert.equal(fired, 0);
    finishLong('done');
    assert.equal(await long, 'done');
    // Nothing waits: no timer runs however long the silence.
    mock.timers.tick(60_000);
    assert.equal(fired, 0);
    // A request without any reply: fires once after the timeout; its failure becomes a timeout, and so does any later call.
    let failWaiting: (e: Error) => void = () => undefined;
    const waiting = dog.track(new Promise<never>((_, reject) => (failWaiting = reject)));
    mock.timers.tick(900);
    assert.equal(fired, 0);
    mock.timers.tick(1100);
    assert.equal(fired, 1);
    failWaiting(new Error('connection closed'));
    await assert.rejects(waiting, (e: unknown) => e instanceof FtpTimeoutError && /within 1 s/.test(e.message));
    await assert.rejects(dog.track(Promise.resolve(1)), FtpTimeoutError);
    mock.timers.tick(5000);
    assert.equal(fired, 1);
  } finally {
    mock.timers.reset();
  }
});
