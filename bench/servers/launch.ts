/**
 * Starting and stopping server processes: each runs in its own process
 * group under `taskset`, its output goes to a log file, readiness is a
 * bounded series of connection attempts that must see a 220 greeting (or
 * an SSH identification line, or an HTTP status line), and
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

/** What tells that a server is ready: an FTP 220 greeting, an SSH identification line, or an HTTP status line (to `HEAD /`). */
export type Probe = { kind: 'ftp' | 'ssh' | 'http'; port: number };

/**
 * Connects to host:port, sends `greeting` if any, and reads (latin1) until
 * `pick` finds its line in what arrived (an Error from it rejects); rejects
 * after 8 KiB without one, on close, or after `timeoutMs`.
 */
function readLine(host: string, port: number, what: string, pick: (text: string) => string | Error | undefined, timeoutMs: number, greeting?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let text = '';
    const done = (err: Error | null, line?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(line as string);
    };
    const timer = setTimeout(() => done(new Error(`no ${what}`)), timeoutMs);
    socket.setEncoding('latin1');
    if (greeting !== undefined) socket.once('connect', () => socket.write(greeting));
    socket.on('data', (d: string) => {
      text += d;
      const line = pick(text);
      if (line instanceof Error) done(line);
      else if (line !== undefined) done(null, line);
      else if (text.length > 8192) done(new Error(`no ${what} in the first 8 KiB`));
    });
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error(`closed before an ${what}`)));
  });
}

/** Resolves once host:port sends an SSH identification line (`SSH-2.0-...`); rejects on close or after `timeoutMs`. */
export function sshBanner(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return readLine(host, port, 'SSH banner', (text) => text.split(/\r?\n/).find((l, i, all) => i < all.length - 1 && l.startsWith('SSH-')), timeoutMs);
}

/** Resolves with the status line host:port answers to `HEAD /` (any status); rejects on close or after `timeoutMs`. */
export function httpStatusLine(host: string, port: number, timeoutMs = 2000): Promise<string> {
  const pick = (text: string): string | Error | undefined => {
    const end = text.indexOf('\r\n');
    if (end < 0) return undefined;
    return text.startsWith('HTTP/1.') ? text.slice(0, end) : new Error(`not HTTP: ${text.slice(0, 40)}`);
  };
  return readLine(host, port, 'HTTP status line', pick, timeoutMs, 'HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
}

async function probeOnce(host: string, probe: Probe): Promise<void> {
  if (probe.kind === 'ssh') return void (await sshBanner(host, probe.port));
  if (probe.kind === 'http') return void (await httpStatusLine(host, probe.port));
  const c = await Control.connect({ host, port: probe.port, timeoutMs: 2000 });
  await c.quit();
}

/** Waits until the probe succeeds on host (a 220 greeting by default; bounded attempts). */
export async function waitReady(child: ChildProcess, host: string, port: number, timeoutMs = 15_000, probe: Probe = { kind: 'ftp', port }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited with ${child.exitCode ?? child.signalCode} before listening`);
    try {
      await probeOnce(host, probe);
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`not ready on ${host}:${probe.port} (${probe.kind}) within ${timeoutMs} ms: ${String(last)}`);
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

/**
 * Starts a command pinned to a core and waits for its greeting: FTP's 220
 * on `port` unless `probes` says otherwise (an `ssh` probe also sets the
 * server's `sftpPort`; HTTP ports are the launcher's to set).
 */
export async function startProcess(command: string, args: string[], opts: SpawnOptions & { port: number; probes?: Probe[] }): Promise<RunningServer> {
  const cgroup = await createCpuGroup(`wharf-bench-${process.pid}-${opts.port}`);
  const child = spawnPinned(command, args, { ...opts, cgroup });
  const stop = async (graceMs?: number) => {
    await stopGroup(child, graceMs);
    if (cgroup) await removeCpuGroup(cgroup);
  };
  const probes = opts.probes ?? [{ kind: 'ftp', port: opts.port }];
  try {
    for (const probe of probes) await waitReady(child, '127.0.0.1', opts.port, 15_000, probe);
  } catch (err) {
    await stop(1000);
    throw new Error(`${command}: ${(err as Error).message} (log: ${opts.logFile})`);
  }
  const ssh = probes.find((p) => p.kind === 'ssh');
  return { pid: child.pid as number, host: '127.0.0.1', port: opts.port, ...(ssh ? { sftpPort: ssh.port } : {}), ...(cgroup ? { cgroup } : {}), stop: () => stop() };
}

/** One process of a server made of several (see {@link startGroup}). */
export interface GroupMember {
  command: string;
  args: string[];
  logFile: string;
  /** What tells that this process is ready. */
  probe: Probe;
}

/**
 * Starts a server made of several processes (rclone-s3: `rclone serve
 * sftp` and `rclone serve http`): each pinned to `cpu` in a process group
 * of its own, all in one cpuacct cgroup, so the server's CPU is theirs
 * together; each is waited for by its probe. The first is the server's pid
 * and `port`, the others its companions; an `ssh` probe sets `sftpPort`,
 * an `http` one `httpPort`.
 */
export async function startGroup(members: GroupMember[], opts: { cpu: string; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<RunningServer> {
  const first = members[0];
  if (!first) throw new Error('startGroup: no process to start');
  const cgroup = await createCpuGroup(`wharf-bench-${process.pid}-${first.probe.port}`);
  const children = members.map((m) => spawnPinned(m.command, m.args, { cpu: opts.cpu, logFile: m.logFile, env: opts.env, cwd: opts.cwd, cgroup }));
  const stop = async (graceMs?: number) => {
    await Promise.all(children.map((c) => stopGroup(c, graceMs)));
    if (cgroup) await removeCpuGroup(cgroup);
  };
  try {
    for (const [i, m] of members.entries()) await waitReady(children[i] as ChildProcess, '127.0.0.1', m.probe.port, 15_000, m.probe);
  } catch (err) {
    await stop(1000);
    throw new Error(`${first.command}: ${(err as Error).message} (logs: ${members.map((m) => m.logFile).join(', ')})`);
  }
  const ssh = members.find((m) => m.probe.kind === 'ssh');
  const http = members.find((m) => m.probe.kind === 'http');
  return {
    pid: children[0]?.pid as number,
    companions: children.slice(1).map((c) => c.pid as number),
    host: '127.0.0.1',
    port: first.probe.port,
    ...(ssh ? { sftpPort: ssh.probe.port } : {}),
    ...(http ? { httpPort: http.probe.port } : {}),
    ...(cgroup ? { cgroup } : {}),
    stop: () => stop(),
  };
}
