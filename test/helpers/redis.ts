/**
 * A real redis-server (Debian's) for the fleet tests: on 127.0.0.1 at a
 * free port, without persistence, in a temporary directory. It can be
 * stopped, paused (SIGSTOP, a Redis that hangs) and started again on the
 * same port; `close()` stops it for good and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running (or stopped) redis-server. */
export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:PORT/0`. */
  url: string;
  /** Stops the server (SIGKILL: its data goes; persistence is off anyway). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts connections and never answers. */
  pause(): void;
  resume(): void;
  /** Sends one command (inline protocol) and resolves with the raw reply. */
  command(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** A port free now on 127.0.0.1 (redis-server binds it itself; a clash fails the start loudly). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One command over a fresh connection (RESP array of bulk strings); the first reply's bytes. */
export function rawCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('redis command timed out'));
    }, timeoutMs);
    let reply = '';
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (d: Buffer) => {
      reply += d.toString('utf8');
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    const body = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    socket.write(`*${args.length}\r\n${body}`);
  });
}

/** Starts redis-server on a free port. */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
    child = proc;
    // Ready when it says so (its log line), or a clear failure within 10 s.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => done(new Error(`redis-server did not start within 10 s: ${out.slice(-500)}`)), 10_000);
      const onData = (d: Buffer) => {
        out += d.toString('utf8');
        if (out.includes('Ready to accept connections')) done(null);
      };
      const onExit = (code: number | null) => done(new Error(`redis-server exited (${code}): ${out.slice(-500)}`));
      const done = (err: Error | null) => {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        proc.off('exit', onExit);
        proc.off('error', done);
        // Keep draining its log so it never blocks on a full pipe.
        proc.stdout.resume();
        if (err) reject(err);
        else resolve();
      };
      proc.stdout.on('data', onData);
      proc.once('exit', onExit);
      proc.once('error', done);
    });
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    command: (...args) => rawCommand(port, args),
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
