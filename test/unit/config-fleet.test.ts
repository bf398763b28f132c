/**
 * The fleet settings: `[state]` (Redis URL, on_failure, key_prefix,
 * lease_time) and `[server] proxy_protocol` / `trusted_proxies`, with
 * their defaults and one line per problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, ConfigError } from '../../src/config/load.js';

function problems(doc: unknown): string[] {
  try {
    buildConfig(doc, '/base');
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
}

test('defaults: no [state], no PROXY protocol, 127.0.0.1 trusted', () => {
  const c = buildConfig({}, '/base');
  assert.equal(c.state, undefined);
  assert.equal(c.server.proxy_protocol, false);
  assert.deepEqual(c.server.trusted_proxies, ['127.0.0.1/32']);
  const s = buildConfig({ state: { redis: 'redis://10.0.0.5:6379/0' } }, '/base').state;
  assert.deepEqual(s, { redis: 'redis://10.0.0.5:6379/0', on_failure: 'open', key_prefix: 'wharf:', lease_time: 15 });
});

test('[state]: the URL, the failure mode and the lease are checked', () => {
  assert.deepEqual(problems({ state: { redis: 'rediss://user:pw@redis.example:6380/2', on_failure: 'closed', key_prefix: 'ftp:', lease_time: 30 } }), []);
  assert.deepEqual(problems({ state: { redis: 'redis://h' } }), []);
  assert.deepEqual(problems({ state: {} }).length, 1);
  assert.match(problems({ state: { redis: 'http://h:6379' } })[0] ?? '', /^state\.redis: must be a redis:\/\/ or rediss:\/\/ URL/);
  assert.match(problems({ state: { redis: 'redis://h/db' } })[0] ?? '', /^state\.redis: must be redis:\/\/.*database number/);
  assert.match(problems({ state: { redis: 'redis://h', on_failure: 'maybe' } })[0] ?? '', /^state\.on_failure:/);
  assert.match(problems({ state: { redis: 'redis://h', lease_time: 1 } })[0] ?? '', /^state\.lease_time:/);
  assert.match(problems({ state: { redis: 'redis://h', leases: 3 } })[0] ?? '', /unknown setting "leases"/);
});

test('trusted_proxies: addresses and networks, IPv4 and IPv6', () => {
  assert.deepEqual(problems({ server: { proxy_protocol: true, trusted_proxies: ['10.0.0.0/8', '192.0.2.1', '::1', 'fd00::/8', '0.0.0.0/0'] } }), []);
  const bad = problems({ server: { trusted_proxies: ['10.0.0.0/33', 'example.org', '10.0.0.1/8/1', '::1/129', '10.0.0.0/'] } });
  assert.deepEqual(
    bad.map((p) => p.split(':')[0]),
    ['server.trusted_proxies[0]', 'server.trusted_proxies[1]', 'server.trusted_proxies[2]', 'server.trusted_proxies[3]', 'server.trusted_proxies[4]'],
  );
});
