import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, ConfigError } from '../../src/config/load.js';
import { hashPassword, parseHash, verifyPassword } from '../../src/auth/password.js';

function problems(doc: unknown): string[] {
  try {
    buildConfig(doc, '/base');
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
}

test('config: defaults and relative paths', () => {
  const c = buildConfig({ anonymous: { root: 'pub' } }, '/base');
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 2121);
  assert.equal(c.server.idle_timeout, 300);
  assert.equal(c.anonymous?.root, '/base/pub');
  assert.equal(c.anonymous?.max_connections, 50);
  assert.deepEqual(c.users, []);
});

test('config: each problem is one line naming the setting', () => {
  assert.deepEqual(
    problems({ server: { port: 70000 } }).map((p) => p.split(':')[0]),
    ['server.port'],
  );
  assert.match(problems({ server: { prot: 21 } })[0] ?? '', /server: unknown setting "prot"/);
  assert.match(problems({ serverr: {} })[0] ?? '', /unknown setting "serverr"/);
  assert.match(problems({ server: { passive_ports: [50100, 50000] } })[0] ?? '', /^server\.passive_ports/);
  assert.match(problems({ users: [{ name: 'bob', password: 'plain', home: '/h' }] })[0] ?? '', /^users\[0\]\.password: must be a hash/);
  assert.match(problems({ users: [{ name: 'anonymous', password: '$scrypt$x', home: '/h' }] }).join('\n'), /users\[0\]\.name: is reserved/);
  assert.match(problems({ users: [{ name: 'bob', password: '$scrypt$x', home: '/h', permissions: ['fly'] }] }).join('\n'), /users\[0\]\.permissions\[0\]/);
  assert.match(problems({ tls: { cert: 'c.pem', key: 'k.pem', require: 'sometimes' } }).join('\n'), /^tls\.require/);
  assert.match(problems({ anonymous: { upload_dir: '../escape' } }).join('\n'), /^anonymous\.upload_dir: must stay inside root/);
});

test('password hashes: PHC format, verify, reject', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.doesNotMatch(h, /[\s"\\]/);
  assert.ok(parseHash(h));
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('wrong', h), false);
  assert.equal(await verifyPassword('x', 'not a hash'), false);
  assert.notEqual(await hashPassword('correct horse'), h);
});

test('user store: right and wrong passwords, remembered successes stay exact', async () => {
  const { UserStore } = await import('../../src/auth/users.js');
  const password = await hashPassword('pw1');
  const store = new UserStore([{ name: 'bob', password, home: '/h', permissions: new Set(), maxRate: 0, keepPartialUploads: false, authorizedKeys: [] }]);
  assert.equal((await store.authenticate('bob', 'pw1'))?.name, 'bob');
  assert.equal((await store.authenticate('bob', 'pw1'))?.name, 'bob');
  assert.equal(await store.authenticate('bob', 'pw2'), null);
  assert.equal(await store.authenticate('bob', 'pw1x'), null);
  assert.equal(await store.authenticate('nobody', 'pw1'), null);
  assert.equal((await store.authenticate('bob', 'pw1'))?.name, 'bob');
});

test('config: passive_addresses takes IPv4 networks and addresses, one line per mistake', () => {
  const bad = (passive_addresses: unknown) => problems({ server: { passive_addresses } });
  assert.deepEqual(bad({ '10.0.0.0/8': '10.0.0.5' }), []);
  assert.match(bad({ '10.0.0.0/33': '10.0.0.5' }).join('\n'), /^server\.passive_addresses.*IPv4 address or network/m);
  assert.match(bad({ 'fe80::/10': '10.0.0.5' }).join('\n'), /^server\.passive_addresses.*IPv4 address or network/m);
  assert.match(bad({ '10.0.0.0/8': 'inside' }).join('\n'), /^server\.passive_addresses\.10\.0\.0\.0\/8/m);
});
