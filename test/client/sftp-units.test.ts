/** Pure parts of the SFTP client: sftp:// URLs and known_hosts matching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { checkHostKey, hostMatches, isSftpUrl, knownHostName, parseKnownHosts, parseSftpUrl } from '../../src/client/index.js';

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
