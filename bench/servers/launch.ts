/**
 * Starting and stopping server processes: each runs in its own process
 * group under `taskset`, its output goes to a log file, readiness is a
 * bounded series of connection attempts that must see a 220 greeting, and
 * stopping sends SIGTERM to the group, then SIGKILL after a grace period.
 * Every group started is remembered so an interrupted run still stops them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import net from 'node:net';
import { Control } from '../ftp/control.js';
import { createCpuGroup, removeCpuGroup, removeCpuGroupsSync } from '../proc.js';
import type { RunningServer } from './types.js';

const live = new Set<ChildProcess>();

/** Kills every process group still running (synchronous, for exit paths). */
export function killAllSync(): void {
  for (const child of live) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  removeCpuGroupsSync();
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Options of {@link spawnPinned}. */
export interface SpawnOptions {
  cpu: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Prefix the command with these (e.g. `unshare -m ...`); taskset goes after them. */
  wrapper?: string[];
  /** A cgroup directory the process joins before anything else runs. */
  cgroup?: string | null;
}

/** Spawns `taskset -c CPU command ...args` in a new process group. */
export function spawnPinned(command: string, args: string[], opts: SpawnOptions): ChildProcess {
  const log = openSync(opts.logFile, 'a');
  const join = opts.cgroup ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.cgroup] : [];
  const argv = [...join, ...(opts.wrapper ?? []), 'taskset', '-c', opts.cpu, command, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    detached: true,
  });
  closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Waits until a 220 greeting can be had on host:port (bounded attempts). */
export async function waitReady(child: ChildProcess, host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited with ${child.exitCode ?? child.signalCode} before listening`);
    try {
      const c = await Control.connect({ host, port, timeoutMs: 2000 });
      await c.quit();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`not ready on ${host}:${port} within ${timeoutMs} ms: ${String(last)}`);
}

/** SIGTERM to the child's process group; SIGKILL after `graceMs`. */
export function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      // Sessions of a forking server may outlive the listener briefly.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone.
      }
      resolve();
    });
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      resolve();
    }
  });
}

/** Starts a command pinned to a core and waits for its greeting. */
export async function startProcess(command: string, args: string[], opts: SpawnOptions & { port: number }): Promise<RunningServer> {
  const cgroup = await createCpuGroup(`wharf-bench-${process.pid}-${opts.port}`);
  const child = spawnPinned(command, args, { ...opts, cgroup });
  const stop = async (graceMs?: number) => {
    await stopGroup(child, graceMs);
    if (cgroup) await removeCpuGroup(cgroup);
  };
  try {
    await waitReady(child, '127.0.0.1', opts.port);
  } catch (err) {
    await stop(1000);
    throw new Error(`${command}: ${(err as Error).message} (log: ${opts.logFile})`);
  }
  return { pid: child.pid as number, host: '127.0.0.1', port: opts.port, ...(cgroup ? { cgroup } : {}), stop: () => stop() };
}
