/**
 * `workers = 2` without Redis: the node's limits and bans are one, held by
 * the primary. The anonymous cap counts both workers' sessions; a ban
 * earned on one worker, or made through the admin API, refuses connections
 * that land on the other; a worker killed with SIGKILL is replaced, the
 * other worker's sessions go on, and the killed one's slots are free again.
 * With `[state] redis`, each worker shares them through Redis directly.
 */
import { test } from 'node:test';
import { once } from 'node:events';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import { RawSession, readAll } from '../helpers/raw.js';
import { uniquePrefix, until } from '../helpers/fleet.js';
import { startRedis } from '../helpers/redis.js';
import { adminFetch, alive, NODE_HOST, startNode, workersWith } from '../helpers/workers.js';

/** Opens an anonymous session logged in with `ident` as its password; the worker that logged it. */
async function anonymous(port: number, lines: () => Record<string, unknown>[], ident: string): Promise<{ s: RawSession; worker: number }> {
  const s = await RawSession.open(port, NODE_HOST);
  await s.login('anonymous', ident);
  await until(() => lines().some((l) => l.event === 'login' && l.ident === ident), 5000, `the login of ${ident} logged`);
  const worker = lines().find((l) => l.event === 'login' && l.ident === ident)?.worker as number;
  return { s, worker };
}

/** An anonymous login that the cap refuses: its reply. */
async function refusedLogin(port: number, ident: string): Promise<string> {
  const s = await RawSession.open(port, NODE_HOST);
  try {
    assert.equal((await s.read())?.code, 220);
    await s.cmd('USER anonymous');
    const r = await s.cmd(`PASS ${ident}`);
    assert.equal(r.code, 421, r.raw);
    return r.raw;
  } finally {
    s.close();
  }
}

test('workers = 2: the anonymous cap is one number for both workers; bans (failed logins or the admin API) hold on both', async (t) => {
  const node = await startNode(t, { admin: true, server: 'ban_threshold = 3\nmax_login_failures = 5\nmax_connections_per_ip = 50', anonymous: 'max_connections = 4' });
  const held: RawSession[] = [];
  t.after(() => held.forEach((s) => s.close()));
  const workers = new Set<number>();
  for (let i = 0; i < 4; i++) {
    const { s, worker } = await anonymous(node.port, node.lines, `cap-${i}@example.com`);
    held.push(s);
    workers.add(worker);
  }
  assert.deepEqual([...workers].sort(), [1, 2], 'the four sessions are spread over both workers');
  // Four more tries: each is refused, whichever worker it lands on.
  for (let i = 0; i < 4; i++) assert.match(await refusedLogin(node.port, `over-${i}@example.com`), /Too many anonymous users \(the limit is 4\)/);
  await until(() => workersWith(node.lines(), 'login-failed', (l) => l.reason === 'anonymous-full').size === 2, 5000, 'both workers refused');

  // Failed logins from 127.0.0.22 on one connection (one worker) ban the address on the node.
  const bad = await RawSession.open(node.port, NODE_HOST, '127.0.0.22');
  t.after(() => bad.close());
  assert.equal((await bad.read())?.code, 220);
  for (let i = 0; i < 3; i++) {
    await bad.cmd('USER alice');
    await bad.cmd('PASS wrong');
  }
  await bad.waitClosed();
  const banner = node.lines().find((l) => l.event === 'address-banned' && l.remote === '127.0.0.22')?.worker;
  assert.ok(banner === 1 || banner === 2);
  // Its next connections are refused on both workers.
  for (let i = 0; i < 4; i++) {
    const s = await RawSession.open(node.port, NODE_HOST, '127.0.0.22');
    const r = await s.read();
    s.close();
    assert.equal(r?.code, 421);
    assert.match(r?.raw ?? '', /Too many failed logins from your address/);
  }
  const refusedBy = () => workersWith(node.lines(), 'connection-refused', (l) => l.remote === '127.0.0.22' && l.reason === 'banned');
  await until(() => refusedBy().size === 2, 5000, 'both workers refused the banned address');

  // A ban made through the admin API holds on both workers too; lifting it lets the address in.
  const admin = node.admin as string;
  assert.equal((await adminFetch(admin, '/api/bans', { method: 'POST', body: JSON.stringify({ address: '127.0.0.23' }) })).status, 201);
  for (let i = 0; i < 4; i++) {
    const s = await RawSession.open(node.port, NODE_HOST, '127.0.0.23');
    const r = await s.read();
    s.close();
    assert.equal(r?.code, 421);
  }
  await until(() => workersWith(node.lines(), 'connection-refused', (l) => l.remote === '127.0.0.23').size === 2, 5000, 'both workers refused the admin ban');
  const bans = (await (await adminFetch(admin, '/api/bans')).json()) as { address: string }[];
  assert.deepEqual(bans.map((b) => b.address).sort(), ['127.0.0.22', '127.0.0.23']);
  assert.equal((await adminFetch(admin, '/api/bans/127.0.0.23', { method: 'DELETE' })).status, 200);
  const back = await RawSession.open(node.port, NODE_HOST, '127.0.0.23');
  assert.equal((await back.read())?.code, 220);
  back.close();
});

test('workers = 2: a worker killed with SIGKILL is replaced; the other worker’s sessions go on; the killed one’s slots are released', async (t) => {
  const node = await startNode(t, { server: 'max_connections_per_ip = 50', anonymous: 'max_connections = 4' });
  const held: { s: RawSession; worker: number }[] = [];
  t.after(() => held.forEach((h) => h.s.close()));
  // The anonymous cap (4) is full, both workers holding some.
  for (let i = 0; i < 4; i++) held.push(await anonymous(node.port, node.lines, `kill-${i}@example.com`));
  assert.deepEqual([...new Set(held.map((h) => h.worker))].sort(), [1, 2]);
  await refusedLogin(node.port, 'full@example.com');

  const pids = node.workerPids();
  const victim = pids.get(1) as number;
  process.kill(victim, 'SIGKILL');
  const lost = held.filter((h) => h.worker === 1);
  const kept = held.filter((h) => h.worker === 2);
  for (const h of lost) await h.s.waitClosed(10_000);
  // The other worker's sessions go on: a command and a download.
  for (const h of kept) {
    assert.equal((await h.s.cmd('NOOP')).code, 200);
    assert.equal((await h.s.cmd('TYPE I')).code, 200);
    const epsv = await h.s.cmd('EPSV');
    const data = connect({ host: NODE_HOST, port: Number(/\(\|\|\|(\d+)\|\)/.exec(epsv.raw)?.[1]) });
    await once(data, 'connect');
    assert.equal((await h.s.cmd('RETR hello.txt')).code, 150);
    assert.equal((await readAll(data)).toString(), 'hello from the archive\n');
    assert.equal((await h.s.read())?.code, 226);
  }
  // Replaced: a new worker 1 listens, and the primary logged why.
  await until(() => node.workerPids().get(1) !== victim && !alive(victim), 30_000, 'worker 1 replaced');
  const exited = node.lines().find((l) => l.event === 'worker-exited' && l.pid === victim);
  assert.equal(exited?.signal, 'SIGKILL');
  // What it held was given back: its anonymous slots, and its connections (those of refused tries may still be closing).
  const freed = exited?.freed as { connections: number; anonymous: number };
  assert.equal(freed.anonymous, lost.length);
  assert.ok(freed.connections >= lost.length);
  // The killed worker's anonymous slots are free: exactly that many new logins fit, then the cap holds again.
  for (let i = 0; i < lost.length; i++) held.push(await anonymous(node.port, node.lines, `again-${i}@example.com`));
  await refusedLogin(node.port, 'full-again@example.com');
  assert.equal(pids.get(2), node.workerPids().get(2), 'worker 2 never restarted');
});

test('workers = 2 with [state] redis: each worker holds a lease of its own; the anonymous cap and a ban hold across both', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const prefix = uniquePrefix();
  const node = await startNode(t, {
    server: 'ban_threshold = 2\nmax_login_failures = 5\nmax_connections_per_ip = 50',
    anonymous: 'max_connections = 2',
    rest: `[state]\nredis = "${redis.url}"\nkey_prefix = "${prefix}"`,
  });
  const held: RawSession[] = [];
  t.after(() => held.forEach((s) => s.close()));
  const workers = new Set<number>();
  for (let i = 0; i < 2; i++) {
    const { s, worker } = await anonymous(node.port, node.lines, `redis-${i}@example.com`);
    held.push(s);
    workers.add(worker);
  }
  assert.deepEqual([...workers].sort(), [1, 2]);
  // Two workers, two leases: the primary asks Redis for nothing here.
  assert.match(await redis.command('ZCARD', `${prefix}leases`), /^:2\r\n$/);
  for (let i = 0; i < 4; i++) assert.match(await refusedLogin(node.port, `over-${i}@example.com`), /Too many anonymous users \(the limit is 2\)/);
  await until(() => workersWith(node.lines(), 'login-failed', (l) => l.reason === 'anonymous-full').size === 2, 5000, 'both workers refused');
  const bad = await RawSession.open(node.port, NODE_HOST, '127.0.0.24');
  t.after(() => bad.close());
  assert.equal((await bad.read())?.code, 220);
  for (let i = 0; i < 2; i++) {
    await bad.cmd('USER alice');
    await bad.cmd('PASS wrong');
  }
  await bad.waitClosed();
  for (let i = 0; i < 4; i++) {
    const s = await RawSession.open(node.port, NODE_HOST, '127.0.0.24');
    const r = await s.read();
    s.close();
    assert.equal(r?.code, 421);
  }
  await until(() => workersWith(node.lines(), 'connection-refused', (l) => l.remote === '127.0.0.24').size === 2, 5000, 'both workers refused the ban');
});
