import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { secretHash } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { leakCheck } from '../helpers/leaks.js';

const BIN = resolve(import.meta.dirname, '../../../bin/wharf.js');

type LogLine = Record<string, unknown>;

/** The JSON log lines a server process writes on stderr, kept from its start so none is missed. */
class LogLines {
  private readonly lines: LogLine[] = [];
  private readonly waiters = new Set<(line: LogLine) => void>();

  constructor(stream: Readable) {
    createInterface({ input: stream }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) w(line);
    });
  }

  /** The first line (already written or still to come) matching `match`; rejects after `timeoutMs`. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (line: LogLine) => {
        if (!match(line)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; got: ${this.lines.map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/** Starts `wharf serve`; with `logs`, its JSON log (stderr) is collected. */
function startCli(config: string, logs = false): Promise<{ child: ChildProcess; port: number; log: LogLines | null }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', logs ? 'pipe' : 'ignore'] });
  const log = logs ? new LogLines(child.stderr!) : null;
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /listening on ftp:\/\/[^:]+:(\d+)/.exec(out);
      if (m) res({ child, port: Number(m[1]), log });
    });
    child.once('exit', (code) => rej(new Error(`server exited (${code}) before listening: ${out}`)));
  });
}

/** Kills a child (if still running) and resolves once it has exited. */
async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('kill -9 of the server during fifty uploads leaves only complete files under their final names', async (t) => {
  const leaks = leakCheck();
  const dir = await mkdtemp(join(tmpdir(), 'wharf-crash-'));
  const servers: ChildProcess[] = [];
  const sockets: { destroy(): void }[] = [];
  // One hook, in order: stop the servers, drop our sockets, then remove the files.
  t.after(async () => {
    for (const child of servers) await stop(child);
    for (const s of sockets) s.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const home = join(dir, 'alice');
  await mkdir(home);
  await mkdir(join(dir, 'pub'));
  // Ten files already there, which the crash must not damage.
  const oldContent = Buffer.from('old complete version\n'.repeat(1000));
  for (let i = 0; i < 10; i++) await writeFile(join(home, `f${i}.bin`), oldContent);
  const config = join(dir, 'wharf.toml');
  // Info level: the restarted server reports its sweep of temporaries in the log (the first run's log is not read).
  await writeFile(
    config,
    `[server]\nport = 0\nmax_connections_per_ip = 100\nbanner = "crash test"\n[anonymous]\nroot = "pub"\n[log]\nlevel = "info"\n[[users]]\nname = "alice"\npassword = "${await secretHash()}"\nhome = "alice"\nmax_rate = 262144\n`,
  );
  const started = await startCli(config);
  const first = started.child;
  servers.push(first);
  const body = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 255;
  // Fifty uploads in flight at once, each throttled so none can finish quickly.
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const s = await RawSession.open(started.port);
      s.timeoutMs = 30_000;
      sockets.push(s.socket);
      await s.login('alice', 'secret');
      await s.cmd('TYPE I');
      const data = await s.passive();
      sockets.push(data);
      data.on('error', () => undefined);
      const r = await s.cmd(`STOR f${i}.bin`);
      assert.equal(r.code, 150);
      data.write(body);
    }),
  );
  await stop(first);
  for (const s of sockets) s.destroy();
  // Every final name holds either the old complete file or a new complete one.
  const names = (await readdir(home)).filter((n) => !n.startsWith('.wharf-up-'));
  for (const n of names) {
    const content = await readFile(join(home, n));
    assert.ok(sha(content) === sha(oldContent) || sha(content) === sha(body), `${n} holds ${content.length} bytes: a partial file`);
  }
  for (let i = 0; i < 10; i++) assert.ok(names.includes(`f${i}.bin`), `f${i}.bin vanished`);
  // The crash left the temporaries of the uploads in flight (else the sweep below would prove nothing).
  const temporaries = (await readdir(home)).filter((n) => n.startsWith('.wharf-up-')).length;
  assert.ok(temporaries > 0, 'the crash left no temporary files');
  // A restart removes them: it logs the sweep once it is done.
  const restarted = await startCli(config, true);
  const again = restarted.child;
  servers.push(again);
  const probe = await RawSession.open(restarted.port);
  sockets.push(probe.socket);
  await probe.login('alice', 'secret');
  const swept = await restarted.log!.waitFor((l) => l.event === 'temp-swept', 30_000);
  assert.equal(swept.removed, temporaries);
  const remaining = (await readdir(home)).filter((n) => n.startsWith('.wharf-up-'));
  assert.deepEqual(remaining, [], 'temporary files were not swept at start');
  probe.close();
  await stop(again, 'SIGTERM');
  assert.equal(again.exitCode, 0);
  await leaks();
});
