/**
 * The pieces of `workers = N` that need no process: how the passive range
 * is split, the respawn back-off, and the shared state a worker asks the
 * primary for (IpcState and StateHost joined by an in-memory channel):
 * one cap for every worker, a dead worker's share freed, no call that
 * waits for ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passiveShare, respawnDelay, splitProblem, MAX_BACKOFF_MS } from '../../src/host/cluster/plan.js';
import { IpcState, type StateChannel } from '../../src/state/ipc.js';
import { StateHost } from '../../src/state/ipc-host.js';
import { MemoryState } from '../../src/state/memory.js';
import { StateUnavailableError } from '../../src/state/types.js';
import { buildConfig, type ConfigError } from '../../src/config/load.js';

const limits = { maxConnections: 10, maxConnectionsPerIp: 3, maxAnonymous: 2, loginFailureDelayMs: 10, banThreshold: 2, banSeconds: 60 };

test('passive_ports is split into disjoint sub-ranges covering it, as even as it allows', () => {
  for (const [lo, hi, n] of [
    [50000, 50099, 2],
    [50000, 50099, 3],
    [41000, 41006, 7],
    [41000, 41010, 4],
  ] as const) {
    const shares = Array.from({ length: n }, (_, i) => passiveShare([lo, hi], i + 1, n) as [number, number]);
    assert.equal(shares[0]![0], lo);
    assert.equal(shares[n - 1]![1], hi);
    for (let i = 1; i < n; i++) assert.equal(shares[i]![0], shares[i - 1]![1] + 1, 'consecutive, no overlap');
    const sizes = shares.map(([a, b]) => b - a + 1);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
  assert.equal(passiveShare(undefined, 1, 2), undefined);
  assert.equal(splitProblem([5000, 5002], 3), null);
  assert.match(splitProblem([5000, 5001], 3) ?? '', /^server\.passive_ports: 2 port\(s\) cannot be split between 3 workers/);
  assert.equal(splitProblem(undefined, 8), null);
});

test('respawn back-off: the first replacement at once, then doubling, capped', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(respawnDelay), [0, 0, 500, 1000, 2000]);
  assert.equal(respawnDelay(40), MAX_BACKOFF_MS);
});

/** A primary (StateHost on a MemoryState) and `n` workers' IpcStates, joined in memory. */
function node(n: number, opts: { deaf?: boolean; timeoutMs?: number } = {}): { host: StateHost; workers: IpcState[] } {
  const host = new StateHost(new MemoryState(limits));
  const workers = Array.from({ length: n }, (_, i) => {
    const listeners = new Set<(m: unknown) => void>();
    const channel: StateChannel = {
      send: (m) => {
        if (!opts.deaf) host.handle(i + 1, structuredClone(m), (answer) => setImmediate(() => listeners.forEach((l) => l(structuredClone(answer)))));
      },
      onMessage: (l) => void listeners.add(l),
      offMessage: (l) => void listeners.delete(l),
    };
    return new IpcState(channel, { timeoutMs: opts.timeoutMs });
  });
  return { host, workers };
}

test('IpcState: the caps, the throttle and the bans are the primary’s, one for every worker', async () => {
  const { host, workers } = node(2);
  const [a, b] = workers as [IpcState, IpcState];
  assert.deepEqual(await a.admit('192.0.2.1'), { ok: true });
  assert.deepEqual(await b.admit('192.0.2.1'), { ok: true });
  assert.deepEqual(await a.admit('192.0.2.1'), { ok: true });
  assert.deepEqual(await b.admit('192.0.2.1'), { ok: false, reason: 'per-ip', limit: 3 });
  assert.equal(await a.takeAnonymous(), true);
  assert.equal(await b.takeAnonymous(), true);
  assert.equal(await a.takeAnonymous(), false);
  assert.deepEqual(await b.counts(), { total: 3, anonymous: 2 });
  // A worker cannot release what it does not hold.
  await b.releaseAnonymous();
  await b.releaseAnonymous();
  assert.deepEqual(await a.counts(), { total: 3, anonymous: 1 });
  // Failed logins on two workers add up to a ban that both enforce.
  assert.equal((await a.loginFailed('198.51.100.9')).banned, false);
  assert.equal((await b.loginFailed('198.51.100.9')).banned, true);
  const refused = await a.admit('198.51.100.9');
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, 'banned');
  await b.ban('203.0.113.5', 30);
  assert.deepEqual((await a.bans()).map((x) => x.address).sort(), ['198.51.100.9', '203.0.113.5']);
  assert.ok((await a.bans()).every((x) => x.until instanceof Date && x.until.getTime() > Date.now()));
  assert.equal(await a.unban('203.0.113.5'), true);
  assert.equal(await b.unban('203.0.113.5'), false);
  // Worker a dies: everything it held is given back.
  assert.deepEqual(await host.releaseAll(1), { connections: 2, anonymous: 1 });
  assert.deepEqual(await b.counts(), { total: 1, anonymous: 0 });
  await Promise.all(workers.map((w) => w.close()));
});

test('IpcState: a primary that does not answer costs a bounded wait; decisions fail as unavailable, releases quietly', async () => {
  const { workers } = node(1, { deaf: true, timeoutMs: 50 });
  const w = workers[0] as IpcState;
  const started = Date.now();
  await assert.rejects(w.admit('192.0.2.1'), StateUnavailableError);
  await assert.rejects(w.takeAnonymous(), StateUnavailableError);
  await w.release('192.0.2.1');
  await w.releaseAnonymous();
  assert.ok(Date.now() - started < 2000);
  // Closing fails the calls still waiting at once.
  const pending = w.loginFailed('192.0.2.1');
  await w.close();
  await assert.rejects(pending, StateUnavailableError);
  await assert.rejects(w.admit('192.0.2.1'), StateUnavailableError);
});

test('config: workers is 1 to 64 or "auto" (one line otherwise); passive_ports needs a port per worker; node is a short name', () => {
  const problems = (server: Record<string, unknown>): string[] => {
    try {
      buildConfig({ server, anonymous: { root: 'memory:' } }, '/');
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  assert.equal(buildConfig({ anonymous: { root: 'memory:' } }, '/').server.workers, 1);
  assert.deepEqual(problems({ workers: 'auto' }), []);
  assert.deepEqual(problems({ workers: 64, passive_ports: [50000, 50063] }), []);
  for (const bad of [0, 65, 1.5, 'many', -2, true])
    assert.deepEqual(problems({ workers: bad }), ['server.workers: must be a whole number from 1 to 64, or "auto" (one per core)'], String(bad));
  assert.deepEqual(problems({ workers: 4, passive_ports: [50000, 50002] }), ['server.passive_ports: 3 port(s) cannot be split between 4 workers; give each worker at least one']);
  assert.deepEqual(problems({ node: 'ftp-1.example' }), []);
  assert.equal(problems({ node: 'two words' }).length, 1);
});
