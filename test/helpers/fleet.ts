/**
 * Helpers for the fleet tests: a logger whose JSON lines the test can read,
 * and bounded waits on conditions that only time brings (a lease expiring,
 * a client reconnecting).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Writable } from 'node:stream';
import { cliEntry } from './peers.js';
import { pino, type Logger } from 'pino';

/** A JSON logger kept in memory. */
export interface MemoryLog {
  logger: Logger;
  /** The lines logged so far, parsed. */
  lines(): Record<string, unknown>[];
}

/** A logger at `level` whose lines stay in memory. */
export function memoryLog(level = 'info'): MemoryLog {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level, base: undefined }, sink), lines: () => lines };
}

/**
 * Resolves once `check` returns true, checking after every `stepMs`;
 * rejects with `what` when `ms` have passed. For states that only the
 * clock brings (a lease expiring); anything with an event waits on it.
 */
export async function until(check: () => Promise<boolean> | boolean, ms: number, what: string, stepMs = 100): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** A key prefix of its own for one test (fleets in one Redis never see each other's keys). */
export function uniquePrefix(): string {
  return `wharf-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}:`;
}

/** A `wharf serve` child process. */
export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  /** The listener URLs it printed (`ftp://127.0.0.1:PORT`, ...). */
  urls: string[];
  /** The port of the first listener whose URL starts with `scheme`. */
  port(scheme: string): number;
  /** Its stderr so far (the JSON log). */
  stderr(): string;
  /** Sends `signal` and resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns `wharf serve --config FILE` and resolves once it printed its
 * `listening` lines (`expect` of them), within `startMs` (default 20 s).
 */
export function spawnServe(config: string, expect = 1, startMs = 20_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliEntry(), 'serve', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: ServeProcess = {
    child,
    urls: [],
    port(scheme) {
      const url = proc.urls.find((u) => u.startsWith(scheme));
      if (!url) throw new Error(`no ${scheme} listener in ${proc.urls.join(', ')}`);
      return Number(new URL(url).port);
    },
    stderr: () => err,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`wharf serve did not start within ${startMs / 1000} s: ${err}`)), startMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    const onExit = (code: number | null) => fail(new Error(`wharf serve exited (${code}): ${err}`));
    child.once('exit', onExit);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      proc.urls = [...out.matchAll(/^wharf listening on (?:admin )?(\S+)$/gm)].map((m) => m[1] as string);
      if (proc.urls.length >= expect) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(proc);
      }
    });
  });
}

/**
 * Clean-ups run last-in first-out after the test (node:test runs after
 * hooks in the order they were added): what was started last is stopped
 * first, so a server closes (and runs its leak check) before the Redis or
 * the balancer it used goes away.
 */
export function deferrals(t: { after(fn: () => Promise<void>): void }): (fn: () => unknown) => void {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    while (stack.length > 0) await stack.pop()?.();
  });
  return (fn) => void stack.push(fn);
}
