import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { secretHash } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';

const BIN = resolve(import.meta.dirname, '../../../bin/wharf.js');

function startCli(config: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /listening on ftp:\/\/[^:]+:(\d+)/.exec(out);
      if (m) res({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => rej(new Error(`server exited (${code}) before listening: ${out}`)));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('kill -9 of the server during fifty uploads leaves only complete files under their final names', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const home = join(dir, 'alice');
  await mkdir(home);
  await mkdir(join(dir, 'pub'));
  // Ten files already there, which the crash must not damage.
  const oldContent = Buffer.from('old complete version\n'.repeat(1000));
  for (let i = 0; i < 10; i++) await writeFile(join(home, `f${i}.bin`), oldContent);
  const config = join(dir, 'wharf.toml');
  await writeFile(
    config,
    `[server]\nport = 0\nmax_connections_per_ip = 100\nbanner = "crash test"\n[anonymous]\nroot = "pub"\n[log]\nlevel = "silent"\n[[users]]\nname = "alice"\npassword = "${await secretHash()}"\nhome = "alice"\nmax_rate = 262144\n`,
  );
  const { child, port } = await startCli(config);
  t.after(() => void child.kill('SIGKILL'));
  const body = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 255;
  const sessions: RawSession[] = [];
  t.after(() => sessions.forEach((s) => s.close()));
  // Fifty uploads in flight at once, each throttled so none can finish quickly.
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const s = await RawSession.open(port);
      s.timeoutMs = 30_000;
      sessions.push(s);
      await s.login('alice', 'secret');
      await s.cmd('TYPE I');
      const data = await s.passive();
      data.on('error', () => undefined);
      const r = await s.cmd(`STOR f${i}.bin`);
      assert.equal(r.code, 150);
      data.write(body);
    }),
  );
  child.kill('SIGKILL');
  await once(child, 'exit');
  for (const s of sessions) s.close();
  // Every final name holds either the old complete file or a new complete one.
  const names = (await readdir(home)).filter((n) => !n.startsWith('.wharf-up-'));
  for (const n of names) {
    const content = await readFile(join(home, n));
    assert.ok(sha(content) === sha(oldContent) || sha(content) === sha(body), `${n} holds ${content.length} bytes: a partial file`);
  }
  for (let i = 0; i < 10; i++) assert.ok(names.includes(`f${i}.bin`), `f${i}.bin vanished`);
  // A restart removes the temporaries the crash left.
  const again = await startCli(config);
  t.after(() => void again.child.kill('SIGKILL'));
  const probe = await RawSession.open(again.port);
  await probe.login('alice', 'secret');
  let left = (await readdir(home)).filter((n) => n.startsWith('.wharf-up-')).length;
  for (let i = 0; i < 100 && left > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = (await readdir(home)).filter((n) => n.startsWith('.wharf-up-')).length;
  }
  assert.equal(left, 0, 'temporary files were not swept at start');
  probe.close();
  again.child.kill('SIGTERM');
  await once(again.child, 'exit');
});
