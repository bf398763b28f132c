/**
 * Redis failing under a node: stopped and restarted while clients keep
 * logging in, and hung (SIGSTOP). With `on_failure = "open"` logins keep
 * working on local limits, each waiting at most the call timeout, and the
 * node shares its counts again soon after Redis returns (its lease is
 * rewritten into the empty Redis); with `"closed"` new connections and
 * logins get a clear 421 until Redis is back, then all is normal. No
 * crash, no hung session, one log line each way.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { memoryLog, uniquePrefix, until, type MemoryLog } from '../helpers/fleet.js';
import { RedisState } from '../../src/state/redis.js';
import type { SharedState } from '../../src/state/types.js';

interface Rig {
  redis: TestRedis;
  node: TestServer;
  log: MemoryLog;
  prefix: string;
  /** The node's state (a RedisState). */
  state: RedisState;
}

async function rig(t: TestContext, onFailure: 'open' | 'closed', overrides: Record<string, unknown> = {}): Promise<Rig> {
  const redis = await startRedis();
  const log = memoryLog();
  const prefix = uniquePrefix();
  let node: TestServer;
  try {
    node = await startServer({ ...overrides, state: { redis: redis.url, key_prefix: prefix, on_failure: onFailure } }, { logger: log.logger });
  } catch (err) {
    await redis.close();
    throw err;
  }
  // The node first (its Redis client stops reconnecting), then Redis.
  t.after(() => node.close());
  t.after(() => redis.close());
  const state = (node.server as unknown as { state: SharedState }).state;
  assert.ok(state instanceof RedisState);
  return { redis, node, log, prefix, state };
}

/** One anonymous login and logout; its duration (ms), or the reply that refused it. */
async function loginOnce(port: number): Promise<{ ok: boolean; ms: number; text: string }> {
  const started = Date.now();
  const s = await RawSession.open(port);
  try {
    const greeting = await s.read(10_000);
    if (greeting?.code !== 220) return { ok: false, ms: Date.now() - started, text: greeting?.raw ?? 'closed' };
    await s.cmd('USER anonymous');
    const r = await s.cmd('PASS load@example.com');
    if (r.code !== 230) return { ok: false, ms: Date.now() - started, text: r.raw };
    await s.cmd('QUIT');
    return { ok: true, ms: Date.now() - started, text: '' };
  } finally {
    s.close();
  }
}

/** Clients logging in and out in a loop until `stop()`; every result is kept. */
function load(port: number, clients: number): { results: { ok: boolean; ms: number; text: string }[]; stop(): Promise<void> } {
  const results: { ok: boolean; ms: number; text: string }[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) results.push(await loginOnce(port).catch((err: Error) => ({ ok: false, ms: 0, text: err.message })));
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

function logged(log: MemoryLog, event: string): number {
  return log.lines().filter((l) => l.event === event).length;
}

test('on_failure = "open": Redis stopped and restarted under load; every login works, limits are shared again after', async (t) => {
  const { redis, node, log, prefix, state } = await rig(t, 'open');
  const held = await RawSession.open(node.port);
  t.after(() => held.close());
  await held.login();
  const traffic = load(node.port, 4);
  await until(() => traffic.results.length >= 20, 15_000, 'logins before the outage');
  await redis.stop();
  const atStop = traffic.results.length;
  await until(() => traffic.results.length >= atStop + 20, 15_000, 'logins during the outage');
  assert.equal(state.shared, false);
  await redis.start();
  const back = await until(() => state.shared, 10_000, 'shared again after Redis returned');
  await until(() => traffic.results.length >= atStop + 60, 15_000, 'logins after the outage');
  await traffic.stop();
  const failed = traffic.results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], 'every login worked');
  assert.ok(Math.max(...traffic.results.map((r) => r.ms)) < 5000, 'no login waited long');
  assert.ok(back < 10_000);
  assert.equal(logged(log, 'state-unavailable'), 1, 'logged once');
  assert.equal(logged(log, 'state-recovered'), 1);
  // The held session was written back into the empty Redis: another node sees it.
  const observer = new RedisState({
    url: redis.url,
    limits: { maxConnections: 9, maxConnectionsPerIp: 9, maxAnonymous: 9, loginFailureDelayMs: 0, banThreshold: 9, banSeconds: 9 },
    keyPrefix: prefix,
  });
  try {
    await observer.ready();
    assert.deepEqual(await observer.counts(), { total: 1, anonymous: 1 });
  } finally {
    await observer.close();
  }
});

test('on_failure = "closed": a clear 421 while Redis is down (new connections and logins), normal once it is back', async (t) => {
  const { redis, node, log, state } = await rig(t, 'closed');
  const loggedIn = await RawSession.open(node.port);
  const waiting = await RawSession.open(node.port);
  t.after(() => [loggedIn, waiting].forEach((s) => s.close()));
  await loggedIn.login();
  assert.equal((await waiting.read())?.code, 220);
  assert.equal((await waiting.cmd('USER anonymous')).code, 331);
  await redis.stop();
  await until(() => !state.shared, 5000, 'the node sees Redis gone');
  const refused = await loginOnce(node.port);
  assert.equal(refused.ok, false);
  assert.match(refused.text, /^421 Service not available: the shared state \(Redis\) is unreachable; please try again later\./);
  const pass = await waiting.cmd('PASS x@y.z');
  assert.equal(pass.code, 421);
  assert.match(pass.raw, /shared state \(Redis\) is unreachable/);
  await waiting.waitClosed();
  // A session already logged in keeps working.
  assert.equal((await loggedIn.cmd('NOOP')).code, 200);
  await redis.start();
  await until(() => state.shared, 10_000, 'shared again after Redis returned');
  const ok = await loginOnce(node.port);
  assert.equal(ok.ok, true, ok.text);
  assert.equal(logged(log, 'state-unavailable'), 1);
  assert.equal(logged(log, 'state-recovered'), 1);
});

test('a hung Redis (SIGSTOP): open mode answers logins within the call timeout; closed mode says 421; both recover', async (t) => {
  const open = await rig(t, 'open');
  const closed = await rig(t, 'closed');
  open.redis.pause();
  closed.redis.pause();
  try {
    const [a, b] = await Promise.all([loginOnce(open.node.port), loginOnce(closed.node.port)]);
    assert.equal(a.ok, true, a.text);
    assert.ok(a.ms < 4500, `open: ${a.ms} ms`);
    assert.equal(b.ok, false);
    assert.match(b.text, /^421 Service not available: the shared state/);
    assert.ok(b.ms < 4500, `closed: ${b.ms} ms`);
    // Once marked down, no call waits on the hung Redis any more.
    const again = await loginOnce(open.node.port);
    assert.ok(again.ok && again.ms < 1000, `${again.ms} ms`);
  } finally {
    open.redis.resume();
    closed.redis.resume();
  }
  await until(() => open.state.shared && closed.state.shared, 10_000, 'both shared again');
  assert.equal((await loginOnce(closed.node.port)).ok, true);
});

test('bans earned while Redis was down are written to it on its return', async (t) => {
  const { redis, node, state, prefix } = await rig(t, 'open', { server: { ban_threshold: 2, max_login_failures: 5 } });
  await redis.stop();
  await until(() => !state.shared, 5000, 'the node sees Redis gone');
  const s = await RawSession.open(node.port);
  t.after(() => s.close());
  assert.equal((await s.read())?.code, 220);
  for (let i = 0; i < 2; i++) {
    await s.cmd('USER alice');
    await s.cmd('PASS wrong');
  }
  await redis.start();
  await until(() => state.shared, 10_000, 'shared again');
  const observer = new RedisState({
    url: redis.url,
    limits: { maxConnections: 9, maxConnectionsPerIp: 9, maxAnonymous: 9, loginFailureDelayMs: 0, banThreshold: 9, banSeconds: 9 },
    keyPrefix: prefix,
  });
  try {
    await observer.ready();
    assert.deepEqual(await observer.admit('127.0.0.1').then((a) => a.ok), false);
    assert.deepEqual(
      (await observer.bans()).map((b) => b.address),
      ['127.0.0.1'],
    );
  } finally {
    await observer.close();
  }
});
