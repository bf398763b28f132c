/**
 * `workers = 2` and the process's life: SIGHUP reloads every worker (a
 * user added to the config logs in on both), SIGTERM closes every worker
 * gracefully and the primary exits 0 with no process left, and a node that
 * cannot start says why in one line and leaves nothing running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { appendFile, writeFile } from 'node:fs/promises';
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
