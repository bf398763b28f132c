import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { verifyPassword } from '../../src/auth/password.js';
import { RawSession } from '../helpers/raw.js';

const BIN = resolve(import.meta.dirname, '../../../bin/wharf.js');

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function run(args: string[], opts: { cwd?: string; input?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd, input: opts.input ?? '', encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('serve with no config: creates ./public, prints the listening line, serves, exits 0 on SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGKILL'));
  child.stdout.setEncoding('utf8');
  let out = '';
  const port = await new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /^wharf listening on ftp:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', () => rej(new Error(`exited early: ${out}`)));
  });
  assert.match(await readFile(join(dir, 'public', 'README'), 'utf8'), /served by Wharf/);
  const s = await RawSession.open(port);
  await s.login();
  const r = await s.cmd('SIZE README');
  assert.equal(r.code, 213);
  assert.equal((await s.cmd('STOR x')).code, 550);
  child.kill('SIGTERM');
  const bye = await s.read();
  assert.equal(bye?.code, 421);
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  s.close();
});

test('bad configs, unreadable roots and busy ports: exit 2 with one clear line', async (t) => {
  const dir = await tempDir(t);
  const cfg = join(dir, 'bad.toml');
  await writeFile(cfg, '[server]\nport = "twenty-one"\n');
  let r = run(['serve', '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^wharf: .*bad\.toml: server\.port: .*\n$/);
  assert.doesNotMatch(r.stderr, /at .*\.js/);

  await writeFile(cfg, '[server\nport = 1\n');
  r = run(['check-config', '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid TOML at line 1/);

  r = run(['serve', '--config', join(dir, 'missing.toml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read the config file/);

  await writeFile(cfg, `[anonymous]\nroot = "nope"\n`);
  r = run(['serve', '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^wharf: anonymous\.root: .*nope does not exist\n$/);

  r = run(['serve', '--root', join(dir, 'nope')], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /anonymous\.root: .* does not exist/);

  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => void blocker.close());
  const port = (blocker.address() as { port: number }).port;
  await mkdir(join(dir, 'public'));
  r = run(['serve', '--port', String(port)], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `wharf: server.port: 127.0.0.1:${port} is already in use\n`);

  r = run(['serve', '--port', 'abc'], { cwd: dir });
  assert.equal(r.code, 2);
});

test('check-config accepts a good file and lists every problem of a bad one', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'pub'));
  await mkdir(join(dir, 'alice'));
  const hash = run(['hash-password'], { input: 'pw\n' }).stdout.trim();
  const good = join(dir, 'good.toml');
  await writeFile(
    good,
    `[server]\nhost = "127.0.0.1"\nport = 2121\npassive_ports = [50000, 50100]\n\n[anonymous]\nenabled = true\nroot = "pub"\n\n[[users]]\nname = "alice"\npassword = "${hash}"\nhome = "alice"\npermissions = ["read", "list"]\n\n[log]\nlevel = "info"\n`,
  );
  let r = run(['check-config', '--config', good]);
  assert.equal(r.code, 0, r.stderr);
  const bad = join(dir, 'bad.toml');
  await writeFile(bad, `[server]\nport = -1\nmax_connections = 0\n\n[[users]]\nname = "bob"\npassword = "plain"\nhome = "x"\n`);
  r = run(['check-config', '--config', bad]);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 3, r.stderr);
  assert.ok(lines.every((l) => l.startsWith('wharf: ')));
  assert.match(r.stderr, /server\.port/);
  assert.match(r.stderr, /server\.max_connections/);
  assert.match(r.stderr, /users\[0\]\.password/);
});

test('hash-password prints one PHC line that verifies', async () => {
  const r = run(['hash-password'], { input: 'my secret\n' });
  assert.equal(r.code, 0);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\$scrypt\$[^\s"\\]+$/);
  assert.equal(await verifyPassword('my secret', lines[0]!), true);
  const empty = run(['hash-password'], { input: '' });
  assert.equal(empty.code, 2);
});
