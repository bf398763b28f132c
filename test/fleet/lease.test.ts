/**
 * Leases: a `wharf serve` node killed with SIGKILL (no chance to give
 * anything back) in the middle of an upload stops being counted within
 * its lease time, the caps it held are free again on the other node, and
 * the shared directory shows no half file: the other node serves on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { secretHash, startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';
import { startRedis } from '../helpers/redis.js';
import { deferrals, spawnServe, uniquePrefix, until } from '../helpers/fleet.js';
import { tempDir } from '../helpers/clients.js';
import { RedisState } from '../../src/state/redis.js';

const LEASE_SECONDS = 3;

/** The size of the upload temporary in `dir` (0 while there is none). */
async function tempSize(dir: string): Promise<number> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('.wharf-up-'));
  return names.length === 1 ? (await stat(join(dir, names[0] as string))).size : 0;
}

test('a node killed with SIGKILL during an upload stops counting within the lease time, leaving no half file', async (t) => {
  const defer = deferrals(t);
  const redis = await startRedis();
  defer(() => redis.close());
  const prefix = uniquePrefix();
  const { dir, cleanup } = await tempDir('wharf-lease-');
  defer(cleanup);
  const shared = join(dir, 'alice');
  await mkdir(join(dir, 'pub'));
  await mkdir(shared);
  await writeFile(join(shared, 'report.txt'), 'quarterly numbers\n');
  const hash = await secretHash();
  const config = join(dir, 'wharf.toml');
  const state = `[state]\nredis = "${redis.url}"\nkey_prefix = "${prefix}"\nlease_time = ${LEASE_SECONDS}\n`;
  const users = `[[users]]\nname = "alice"\npassword = "${hash}"\nhome = "alice"\n`;
  await writeFile(config, `[server]\nhost = "127.0.0.1"\nport = 0\nmax_connections_per_ip = 4\n[anonymous]\nroot = "pub"\n${users}[log]\nlevel = "warn"\n${state}`);
  const child = await spawnServe(config);
  defer(() => child.kill());
  const port = child.port('ftp://');
  const held = [await RawSession.open(port), await RawSession.open(port), await RawSession.open(port)];
  defer(() => held.forEach((s) => s.close()));
  await held[0]!.login();
  await held[1]!.login();
  // The third uploads, and is cut off half way by the kill.
  const uploader = held[2]!;
  await uploader.login('alice', 'secret');
  await uploader.cmd('TYPE I');
  const epsv = await uploader.cmd('EPSV');
  const data = connect({ host: '127.0.0.1', port: Number(/\(\|\|\|(\d+)\|\)/.exec(epsv.raw)?.[1]) });
  defer(() => data.destroy());
  data.on('error', () => undefined);
  await once(data, 'connect');
  assert.equal((await uploader.cmd('STOR big.bin')).code, 150);
  data.write(Buffer.alloc(256 * 1024, 7));
  await until(async () => (await tempSize(shared)) > 0, 5000, 'the upload under way');

  // Node A, in this process, on the same Redis and directory: the address holds 3 of its 4.
  const userA = { name: 'alice', password: hash, home: shared, permissions: ['*'] };
  const a = await startServer({ server: { max_connections_per_ip: 4 }, users: [userA], state: { redis: redis.url, key_prefix: prefix, lease_time: LEASE_SECONDS } });
  defer(() => a.close());
  const limits = { maxConnections: 9, maxConnectionsPerIp: 9, maxAnonymous: 9, loginFailureDelayMs: 0, banThreshold: 9, banSeconds: 9 };
  const observer = new RedisState({ url: redis.url, limits, keyPrefix: prefix });
  defer(() => observer.close());
  await observer.ready();
  assert.deepEqual(await observer.counts(), { total: 3, anonymous: 2 });
  const mine = await RawSession.open(a.port);
  defer(() => mine.close());
  assert.equal((await mine.read())?.code, 220);
  const over = await RawSession.open(a.port);
  const refused = await over.read();
  over.close();
  assert.equal(refused?.code, 421, 'the per-address cap counts the other node');

  await child.kill('SIGKILL');
  const killedAt = Date.now();
  // The child's lease was renewed at most a third of the lease ago: it lapses within the lease time.
  await until(async () => (await observer.counts()).total === 1, LEASE_SECONDS * 1000 + 1000, 'the dead node stops counting');
  assert.ok(Date.now() - killedAt <= LEASE_SECONDS * 1000 + 500, `${Date.now() - killedAt} ms`);
  assert.deepEqual(await observer.counts(), { total: 1, anonymous: 0 });

  // Node A serves on; the cut upload is nowhere to be seen.
  const again = await RawSession.open(a.port);
  defer(() => again.close());
  await again.login('alice', 'secret');
  await again.cmd('TYPE I');
  const list = await again.passive();
  assert.equal((await again.cmd('NLST')).code, 150);
  assert.deepEqual((await readAll(list)).toString().trim().split(/\r?\n/), ['report.txt']);
  assert.equal((await again.read())?.code, 226);
  assert.equal((await again.cmd('SIZE big.bin')).code, 550);
  const get = await again.passive();
  assert.equal((await again.cmd('RETR report.txt')).code, 150);
  assert.equal((await readAll(get)).toString(), 'quarterly numbers\n');
  assert.equal((await again.read())?.code, 226);
});
