/**
 * Several Wharf nodes (servers in this process) sharing one real
 * redis-server: a ban earned on one node refuses the next connection on
 * another; the anonymous cap, the per-address cap and the total are one
 * number for the fleet; counts go back when sessions end.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { uniquePrefix, until } from '../helpers/fleet.js';
import { RedisState } from '../../src/state/redis.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

/** `n` nodes on one Redis under a fresh prefix, closed after the test. */
async function fleet(t: TestContext, n: number, overrides: Record<string, unknown> = {}): Promise<TestServer[]> {
  const prefix = uniquePrefix();
  const nodes: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    const node = await startServer({ ...overrides, state: { redis: redis.url, key_prefix: prefix } });
    t.after(() => node.close());
    nodes.push(node);
  }
  return nodes;
}

/** Opens a session and reads the greeting. */
async function greeted(node: TestServer): Promise<{ s: RawSession; code: number | undefined; text: string }> {
  const s = await RawSession.open(node.port);
  const r = await s.read();
  return { s, code: r?.code, text: r?.raw ?? '' };
}

test('a ban earned on node A refuses the next connection on node B', async (t) => {
  const [a, b] = await fleet(t, 2, { server: { ban_threshold: 3, max_login_failures: 5 } });
  const s = await RawSession.open(a!.port);
  assert.equal((await s.read())?.code, 220);
  const banned = waitForEvent(a!.server, 'ban');
  for (let i = 0; i < 3; i++) {
    await s.cmd('USER alice');
    await s.cmd('PASS wrong');
  }
  assert.equal((await banned).remote, '127.0.0.1');
  s.close();
  const refused = waitForEvent(b!.server, 'connection-refused');
  const g = await greeted(b!);
  g.s.close();
  assert.equal(g.code, 421);
  assert.match(g.text, /Too many failed logins from your address; try again in \d+ seconds/);
  assert.equal((await refused).reason, 'banned');
  // The operator lifts it on node B (the admin API's call); node A lets the address in again.
  assert.deepEqual(
    (await b!.server['state'].bans()).map((x) => x.address),
    ['127.0.0.1'],
  );
  assert.equal(await b!.server['state'].unban('127.0.0.1'), true);
  const again = await greeted(a!);
  again.s.close();
  assert.equal(again.code, 220);
});

test('the anonymous cap holds across nodes, and a slot freed on one node is free on the other', async (t) => {
  const [a, b] = await fleet(t, 2, { anonymous: { max_connections: 2 } });
  const s1 = await RawSession.open(a!.port);
  const s2 = await RawSession.open(b!.port);
  const s3 = await RawSession.open(a!.port);
  t.after(() => [s1, s2, s3].forEach((s) => s.close()));
  await s1.login();
  await s2.login();
  assert.equal((await s3.read())?.code, 220);
  await s3.cmd('USER anonymous');
  const full = await s3.cmd('PASS x@y.z');
  assert.equal(full.code, 421);
  assert.match(full.raw, /Too many anonymous users \(the limit is 2\)/);
  const ended = waitForEvent(b!.server, 'disconnect');
  assert.equal((await s2.cmd('QUIT')).code, 221);
  await ended;
  const s4 = await RawSession.open(a!.port);
  t.after(() => s4.close());
  await s4.login();
});

test('per-address and total caps count every node’s connections', async (t) => {
  const [a, b, c] = await fleet(t, 3, { server: { max_connections_per_ip: 3, max_connections: 100 } });
  const held = [await greeted(a!), await greeted(b!), await greeted(c!)];
  t.after(() => held.forEach((h) => h.s.close()));
  assert.deepEqual(
    held.map((h) => h.code),
    [220, 220, 220],
  );
  const fourth = await greeted(b!);
  fourth.s.close();
  assert.equal(fourth.code, 421);
  assert.match(fourth.text, /Too many connections from your address \(the limit is 3\)/);
  assert.deepEqual(await a!.server['state'].counts(), { total: 3, anonymous: 0 });
  // One session ends on node C: node B admits the address again.
  const gone = waitForEvent(c!.server, 'disconnect');
  held[2]!.s.close();
  await gone;
  const fifth = await greeted(b!);
  fifth.s.close();
  assert.equal(fifth.code, 220);
});

test('the total cap is one number for the fleet', async (t) => {
  const [a, b] = await fleet(t, 2, { server: { max_connections: 2 } });
  const held = [await greeted(a!), await greeted(b!)];
  t.after(() => held.forEach((h) => h.s.close()));
  const third = await greeted(a!);
  third.s.close();
  assert.equal(third.code, 421);
  assert.match(third.text, /the server limit is 2/);
});

test('RedisState directly: a lease given back on close stops counting at once; counts are per prefix', async () => {
  const limits = { maxConnections: 10, maxConnectionsPerIp: 10, maxAnonymous: 10, loginFailureDelayMs: 0, banThreshold: 5, banSeconds: 60 };
  const prefix = uniquePrefix();
  const one = new RedisState({ url: redis.url, limits, keyPrefix: prefix });
  const two = new RedisState({ url: redis.url, limits, keyPrefix: prefix });
  const other = new RedisState({ url: redis.url, limits, keyPrefix: uniquePrefix() });
  try {
    await Promise.all([one.ready(), two.ready(), other.ready()]);
    assert.deepEqual(await one.admit('192.0.2.1'), { ok: true });
    assert.equal(await one.takeAnonymous(), true);
    assert.deepEqual(await two.counts(), { total: 1, anonymous: 1 });
    assert.deepEqual(await other.counts(), { total: 0, anonymous: 0 });
    await one.close();
    assert.deepEqual(await two.counts(), { total: 0, anonymous: 0 });
  } finally {
    await Promise.all([one.close(), two.close(), other.close()]);
  }
});

test('RedisState directly: a lease lost in Redis (flushed, or expired during a long pause) is rewritten from the process’s own table', async () => {
  const limits = { maxConnections: 10, maxConnectionsPerIp: 10, maxAnonymous: 10, loginFailureDelayMs: 0, banThreshold: 5, banSeconds: 60 };
  const prefix = uniquePrefix();
  const one = new RedisState({ url: redis.url, limits, keyPrefix: prefix, leaseMs: 3000 });
  const two = new RedisState({ url: redis.url, limits, keyPrefix: prefix });
  try {
    await Promise.all([one.ready(), two.ready()]);
    await one.admit('192.0.2.1');
    await one.admit('192.0.2.2');
    await one.takeAnonymous();
    assert.match(await redis.command('FLUSHDB'), /^\+OK/);
    assert.deepEqual(await two.counts(), { total: 0, anonymous: 0 });
    // The next decision finds the lease gone and has it rewritten (as the renewal would, within a third of the lease).
    assert.deepEqual(await one.admit('192.0.2.3'), { ok: true });
    await until(async () => (await two.counts()).total === 3, 5000, 'the lease rewritten');
    assert.deepEqual(await two.counts(), { total: 3, anonymous: 1 });
    // Releases after the rewrite count once.
    await one.release('192.0.2.1');
    await one.releaseAnonymous();
    assert.deepEqual(await two.counts(), { total: 2, anonymous: 0 });
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});
