/**
 * `workers = 2` and the process's life: SIGHUP reloads every worker (a
 * user added to the config logs in on both), SIGTERM closes every worker
 * gracefully and the primary exits 0 with no process left, a worker that
 * keeps dying is replaced with a growing back-off, and a node that cannot
 * start says why in one line and leaves nothing running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawSession } from '../helpers/raw.js';
import { until } from '../helpers/fleet.js';
import { run, tempDir } from '../helpers/clients.js';
import { cliEntry } from '../helpers/peers.js';
import { secretHash } from '../helpers/server.js';
import { allGone, NODE_HOST, startNode, workersWith } from '../helpers/workers.js';

/** Logs in as `user` with password "secret"; the reply to PASS. */
async function login(port: number, user: string): Promise<number> {
  const s = await RawSession.open(port, NODE_HOST);
  try {
    assert.equal((await s.read())?.code, 220);
    await s.cmd(`USER ${user}`);
    return (await s.cmd('PASS secret')).code;
  } finally {
    s.close();
  }
}

test('workers = 2: SIGHUP reloads every worker; SIGTERM closes them all and the primary exits 0, no process left', async (t) => {
  const node = await startNode(t);
  assert.equal(await login(node.port, 'bob'), 530);
  await appendFile(node.config, `\n[[users]]\nname = "bob"\npassword = "${await secretHash()}"\nhome = "alice"\n`);
  node.proc.child.kill('SIGHUP');
  await until(() => node.lines().some((l) => l.event === 'reload' && l.worker === 0 && l.workers === 2), 15_000, 'the primary reloaded both workers');
  // Bob logs in, whichever worker gets the connection; both do within a few tries.
  for (let i = 0; i < 12 && workersWith(node.lines(), 'login', (l) => l.user === 'bob').size < 2; i++) assert.equal(await login(node.port, 'bob'), 230);
  assert.deepEqual([...workersWith(node.lines(), 'login', (l) => l.user === 'bob')].sort(), [1, 2]);

  // SIGTERM: an open session is ended (421), every process exits, the primary with 0.
  const held = await RawSession.open(node.port, NODE_HOST);
  t.after(() => held.close());
  await held.login();
  const pids = [node.proc.child.pid as number, ...node.workerPids().values()];
  assert.equal(pids.length, 3);
  const exited = once(node.proc.child, 'exit') as Promise<[number | null, string | null]>;
  node.proc.child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(
    code,
    0,
    node.proc
      .stderr()
      .split('\n')
      .filter((l) => !l.includes('"level":"info"'))
      .join('\n'),
  );
  const last = await held.read();
  assert.ok(last === null || last.code === 421, `the session's last reply: ${last?.raw}`);
  await allGone(pids);
});

test('workers = 2: a node whose listener cannot start says so in one line, exits 2 and leaves no worker behind', async (t) => {
  const { dir, cleanup } = await tempDir('wharf-workers-');
  t.after(cleanup);
  const busy = createServer();
  busy.listen(0, NODE_HOST);
  await once(busy, 'listening');
  t.after(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const port = (busy.address() as { port: number }).port;
  const config = join(dir, 'wharf.toml');
  await writeFile(config, `[server]\nhost = "${NODE_HOST}"\nport = ${port}\nworkers = 2\n[anonymous]\nroot = "${dir}"\n[log]\nlevel = "warn"\n`);
  const r = await run(process.execPath, [cliEntry(), 'serve', '--config', config], { timeoutMs: 60_000 });
  assert.equal(r.code, 2, r.stderr);
  // Its stdio closes only once every process of the node has exited: none is left behind.
  assert.equal(r.stdout.toString(), '');
  assert.match(r.stderr, new RegExp(`^wharf: server\\.port: ${NODE_HOST.replaceAll('.', '\\.')}:${port} is already in use$`, 'm'));
  // Too few passive ports for the workers: refused before anything starts.
  await writeFile(config, `[server]\nhost = "${NODE_HOST}"\nport = 0\nworkers = 3\npassive_ports = [41400, 41401]\n[anonymous]\nroot = "${dir}"\n`);
  const small = await run(process.execPath, [cliEntry(), 'serve', '--config', config], { timeoutMs: 30_000 });
  assert.equal(small.code, 2);
  assert.equal(small.stderr.trim().split('\n').length, 1, small.stderr);
  assert.match(small.stderr, /server\.passive_ports: 2 port\(s\) cannot be split between 3 workers/);
});

test('workers = 2: a worker that keeps failing is replaced with a growing back-off, logged, while the other serves; it comes back once it can', async (t) => {
  const node = await startNode(t);
  const good = await readFile(node.config, 'utf8');
  // The file goes bad (no reload asked): a replacement worker cannot start with it.
  await writeFile(node.config, good.replace('workers = 2', 'workers = 2\nno_such_setting = 1'));
  const victim = node.workerPids().get(1) as number;
  process.kill(victim, 'SIGKILL');
  const exits = () => node.lines().filter((l) => l.event === 'worker-exited' && l.slot === 1);
  await until(() => exits().length >= 5, 45_000, 'five deaths of worker 1');
  // The first replacement is immediate (the second too, when the killed worker was older than 10 s); then 0.5 s, 1 s, 2 s...
  const delays = exits()
    .slice(0, 5)
    .map((l) => l.respawnInMs as number);
  const growing = delays.filter((d) => d > 0);
  assert.ok(delays.length - growing.length <= 2 && growing[0] === 500, `delays: ${delays.join(', ')}`);
  for (let i = 1; i < growing.length; i++) assert.equal(growing[i], 2 * (growing[i - 1] as number), `delays: ${delays.join(', ')}`);
  const failed = node.lines().find((l) => l.event === 'worker-failed' && l.slot === 1);
  assert.match(String(failed?.problems), /no_such_setting/);
  // Meanwhile worker 2 serves every connection.
  for (let i = 0; i < 3; i++) assert.equal(await login(node.port, 'alice'), 230);
  // The file is fixed: the next replacement starts and stays.
  await writeFile(node.config, good);
  await until(() => (node.workerPids().get(1) ?? victim) !== victim, 30_000, 'worker 1 back');
  const s = await RawSession.open(node.port, NODE_HOST);
  t.after(() => s.close());
  await s.login();
});
