/**
 * Helpers for the `workers = N` tests: a `wharf serve` node with workers
 * in a temporary directory, its JSON log read back, which worker did
 * what, and whether processes are still alive.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deferrals, spawnServe, until, type ServeProcess } from './fleet.js';
import { tempDir } from './clients.js';
import { secretHash } from './server.js';

/** The node's address (loopback, set apart from the other fleet tests). */
export const NODE_HOST = '127.0.0.21';

/** A bearer token's hash for `[admin]` and the token itself. */
export const ADMIN_TOKEN = 'secret';

/** A running node with workers. */
export interface WorkerNode {
  proc: ServeProcess;
  dir: string;
  /** Its config file (rewrite it, then SIGHUP). */
  config: string;
  port: number;
  /** The admin listener's base URL, when `[admin]` is set. */
  admin: string | null;
  /** Every JSON line logged so far (primary and workers). */
  lines: () => Record<string, unknown>[];
  /** The live workers' pids by slot, from the primary's log (the last start of each slot). */
  workerPids: () => Map<number, number>;
}

/** What the config holds beyond `[server]`: TOML text, with `HASH` standing for the hash of "secret". */
export interface NodeSpec {
  server?: string;
  anonymous?: string;
  /** How many `listening` lines to wait for (default: 1, or 2 with `admin`). */
  listeners?: number;
  rest?: string;
  admin?: boolean;
}

/**
 * Starts `wharf serve` with `workers = 2` on NODE_HOST (port 0) with an
 * anonymous root `pub/` and a user alice (password "secret", home
 * `alice/`); everything is stopped and removed after the test.
 */
export async function startNode(t: { after(fn: () => Promise<void>): void }, spec: NodeSpec = {}): Promise<WorkerNode> {
  const defer = deferrals(t);
  const { dir, cleanup } = await tempDir('wharf-workers-');
  defer(cleanup);
  await mkdir(join(dir, 'pub'));
  await mkdir(join(dir, 'alice'));
  await writeFile(join(dir, 'pub', 'hello.txt'), 'hello from the archive\n');
  const hash = await secretHash();
  const admin = spec.admin ? `[admin]\nport = 0\ntoken = "${hash}"\n` : '';
  const text =
    `[server]\nhost = "${NODE_HOST}"\nport = 0\nworkers = 2\nlogin_failure_delay = 0\n${spec.server ?? ''}\n` +
    `[anonymous]\nroot = "pub"\n${spec.anonymous ?? ''}\n[[users]]\nname = "alice"\npassword = "${hash}"\nhome = "alice"\n${(spec.rest ?? '').replaceAll('HASH', hash)}\n${admin}[log]\nlevel = "info"\n`;
  const config = join(dir, 'wharf.toml');
  await writeFile(config, text);
  const proc = await spawnServe(config, spec.listeners ?? (spec.admin ? 2 : 1), 60_000);
  defer(async () => {
    const pids = [...workerPidsOf(proc).values()];
    await proc.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const adminUrl = proc.urls.find((u) => u.startsWith('http://'));
  return {
    proc,
    dir,
    config,
    port: proc.port('ftp://'),
    admin: adminUrl ?? null,
    lines: () => logLines(proc),
    workerPids: () => workerPidsOf(proc),
  };
}

function logLines(proc: ServeProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of proc.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line still being written.
    }
  }
  return out;
}

function workerPidsOf(proc: ServeProcess): Map<number, number> {
  const pids = new Map<number, number>();
  for (const l of logLines(proc)) if (l.event === 'worker-listening') pids.set(l.slot as number, l.pid as number);
  return pids;
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves once no process of `pids` is left (within `ms`). */
export async function allGone(pids: number[], ms = 15_000): Promise<void> {
  await until(() => pids.every((p) => !alive(p)), ms, `processes ${pids.join(', ')} gone`);
}

/** The workers (slots) that logged an event `event` (optionally matching `where`). */
export function workersWith(lines: Record<string, unknown>[], event: string, where: (l: Record<string, unknown>) => boolean = () => true): Set<number> {
  return new Set(lines.filter((l) => l.event === event && where(l)).map((l) => l.worker as number));
}

/** An admin API request with the token. */
export async function adminFetch(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(base + path, { ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' } });
}
