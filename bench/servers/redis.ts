/**
 * A redis-server for the `wharf-redis` variant (`[state] redis`): Debian's
 * binary on a free loopback port, no persistence, pinned to the server's
 * core (its work is part of what a Redis-backed login costs). `stats()`
 * reads its command count and CPU time from INFO, so a scenario can report
 * round trips and Redis CPU per login.
 */
import { connect } from 'node:net';
import path from 'node:path';
import { freePort, spawnPinned, stopGroup } from './launch.js';

/** Redis's counters at one moment. */
export interface RedisStats {
  /** Commands processed so far, those run inside scripts included. */
  commands: number;
  /** Script calls (EVAL, EVALSHA): Wharf's round trips, one per decision. */
  scripts: number;
  /** CPU seconds (user + system) of the server so far. */
  cpuSeconds: number;
}

/** A running bench Redis. */
export interface BenchRedis {
  url: string;
  stats(): Promise<RedisStats>;
  stop(): Promise<void>;
}

/** Sends one inline command and resolves with the whole reply once `done(reply)` says so. */
function ask(port: number, line: string, done: (reply: string) => boolean, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => socket.destroy(new Error(`redis ${line}: no answer`)), timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (d: Buffer) => {
      reply += d.toString('utf8');
      if (!done(reply)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    });
  });
}

/** The bulk reply of INFO is complete once its announced length has arrived. */
function bulkComplete(reply: string): boolean {
  const m = /^\$(\d+)\r\n/.exec(reply);
  return m !== null && Buffer.byteLength(reply) >= m[0].length + Number(m[1]) + 2;
}

function field(info: string, name: string): number {
  return Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
}

/** Calls of one command, from INFO's commandstats (0 when never called). */
function calls(info: string, name: string): number {
  return Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

/** Starts redis-server pinned to `cpu`; resolves once it answers PING (within 10 s). */
export async function startBenchRedis(cpu: string, workDir: string): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawnPinned('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir], {
    cpu,
    logFile: path.join(workDir, 'redis.log'),
  });
  const stop = () => stopGroup(child, 2000);
  const start = Date.now();
  for (;;) {
    const pong = await ask(port, 'PING', (r) => r.endsWith('\r\n'), 500).catch(() => '');
    if (pong.startsWith('+PONG')) break;
    if (Date.now() - start > 10_000) {
      await stop();
      throw new Error(`redis-server did not answer on port ${port} (log: ${workDir}/redis.log)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    async stats() {
      const info = await ask(port, 'INFO all', bulkComplete);
      const scripts = ['eval', 'evalsha', 'eval_ro', 'evalsha_ro'].reduce((sum, name) => sum + calls(info, name), 0);
      return { commands: field(info, 'total_commands_processed'), scripts, cpuSeconds: field(info, 'used_cpu_user') + field(info, 'used_cpu_sys') };
    },
    stop,
  };
}
