/**
 * A real HAProxy (Debian's) in TCP mode for the fleet tests, started in
 * the foreground from a config the test writes, and free port numbers for
 * it and the nodes behind it (loopback addresses 127.0.0.x only).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A running haproxy. */
export interface TestHaproxy {
  /** Stops it and resolves once it exited. */
  close(): Promise<void>;
}

/** Writes `config` to `dir/haproxy.cfg` and starts haproxy on it; resolves once it listens (within 10 s). */
export async function startHaproxy(dir: string, config: string): Promise<TestHaproxy> {
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  // -db: foreground; -V: it prints "Using epoll()..." once its listeners are bound.
  const child = spawn('haproxy', ['-db', '-V', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`haproxy did not start within 10 s: ${err}`)), 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Using \w+\(\) as the polling mechanism/.test(out)) done(null);
    };
    const onExit = (code: number | null) => done(new Error(`haproxy exited (${code}): ${err}`));
    const done = (e: Error | null) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.stdout.resume();
      if (e) {
        child.kill('SIGKILL');
        reject(e);
      } else resolve();
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', done);
  });
  return {
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive ports free on every address now (tested on the
 * wildcard address), below the ephemeral range so that port-0 listeners
 * of tests running beside cannot take them meanwhile.
 */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canBind(p, '0.0.0.0');
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
