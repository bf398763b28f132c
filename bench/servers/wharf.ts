/**
 * Wharf itself: `node bin/wharf.js serve --config <generated toml>`, with
 * anonymous access to the dataset, a drop box for uploads, FTPS enabled
 * (plain sessions still allowed), limits raised for 1,000 sessions, and
 * logging at "warn" so that, like the peers, it logs no line per command
 * or transfer (and no xferlog: `transfer_log` is not set; nginx runs with
 * `access_log off`). With the run's SSH keys it also serves SFTP on a
 * second port: `[sftp]` with a host key from `wharf gen-hostkey`, and one
 * user whose home is the dataset and who logs in with the client's key (as
 * root does on sshd). The web view (`[http]`) serves the same anonymous
 * root on the harness's HTTP port.
 *
 * Two opt-in variants measure the operator's console (issue 13) against
 * plain `wharf`, with everything else equal:
 *
 * - `wharf-console`: `[admin]` on (its listener, the Prometheus registry
 *   and the status tracker subscribed to the events); after each measured
 *   piece of work the harness scrapes `/metrics` once, as Prometheus would;
 * - `wharf-hooks`: the same plus `[[hooks]]` for `upload` and `download`
 *   running `/bin/true` (a fork + exec per transfer, pinned to the server's
 *   core and charged to its cgroup); after each measured piece of work the
 *   harness polls `/metrics` until every hook has run, so their CPU counts.
 *
 * And two for a fleet (issue 15), with everything else equal:
 *
 * - `wharf-w2`: `workers = 2` (node:cluster), pinned to the cores of
 *   BENCH_SCALE_CPU (default "0,1": the load generator's core too, so its
 *   figures are a floor, capped by the load generator; the report shows its
 *   CPU beside them);
 * - `wharf-redis`: `[state] redis` on a redis-server of its own, pinned to
 *   the server's core; the `state-logins` scenario reads its commands and
 *   CPU per login.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { freePort, startProcess } from './launch.js';
import { startBenchRedis } from './redis.js';
import type { RunningServer, ServerSpec, StartEnv } from './types.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** The installed ssh2's version. */
function ssh2Version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'ssh2', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/**
 * Copies the build under test (bin/, dist/src/, package.json, and a link to
 * node_modules) into `dir`, so a rebuild of the work tree during the run
 * does not change the code measured. Returns the snapshot's root.
 */
export async function snapshotWharf(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  await cp(path.join(REPO, 'bin'), path.join(dir, 'bin'), { recursive: true });
  await cp(path.join(REPO, 'dist', 'src'), path.join(dir, 'dist', 'src'), { recursive: true });
  await cp(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  // The zero-copy addon, where `npm ci` built it (src/vfs/local/sendfile.ts finds it beside dist/).
  await cp(path.join(REPO, 'build', 'Release', 'wharf_native.node'), path.join(dir, 'build', 'Release', 'wharf_native.node')).catch(() => undefined);
  await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** What a variant adds to the plain configuration. */
export type ConsoleMode = 'off' | 'console' | 'hooks';

/** A fleet variant's settings: several workers, or limits in Redis. */
export interface FleetSettings {
  workers?: number;
  redis?: string;
}

/** The `[admin]` listener of a console variant. */
interface AdminSettings {
  port: number;
  /** A `wharf hash-password` hash of {@link ADMIN_PASSWORD}. */
  tokenHash: string;
}

/** The admin token the bench scrapes `/metrics` with (a local, throwaway listener). */
const ADMIN_PASSWORD = 'wharf-bench-admin';

/** The hook command of `wharf-hooks`: does nothing, so the figure is the cost of running a hook at all. */
export const HOOK_COMMAND = '/bin/true';

/**
 * Wharf's TOML for the benchmark; `sftpPort` turns on `[sftp]` with a
 * key-login user whose home is the dataset, `admin` the console, `hooks`
 * the upload and download hooks.
 */
export function wharfConfig(env: StartEnv, logLevel: string, sftpPort?: number, admin?: AdminSettings, hooks = false, fleet: FleetSettings = {}): string {
  const ssh = env.ssh;
  const sftp =
    ssh && sftpPort !== undefined
      ? [
          '[sftp]',
          `port = ${sftpPort}`,
          `host_keys = [${JSON.stringify(ssh.wharfHostKey)}]`,
          '',
          '[[users]]',
          `name = ${JSON.stringify(ssh.user.wharf)}`,
          `password = ${JSON.stringify(ssh.passwordHash)}`,
          `home = ${JSON.stringify(env.dataset.root)}`,
          'permissions = ["*"]',
          `authorized_keys = [${JSON.stringify(ssh.clientPub)}]`,
          '',
        ]
      : [];
  const adminTables = admin ? ['[admin]', 'host = "127.0.0.1"', `port = ${admin.port}`, `token = ${JSON.stringify(admin.tokenHash)}`, ''] : [];
  const hookTables = hooks ? ['upload', 'download'].flatMap((event) => ['[[hooks]]', `event = "${event}"`, `command = [${JSON.stringify(HOOK_COMMAND)}]`, '']) : [];
  return [
    '[server]',
    'host = "127.0.0.1"',
    `port = ${env.port}`,
    `passive_ports = [${env.passive[0]}, ${env.passive[1]}]`,
    'max_connections = 10000',
    'max_connections_per_ip = 10000',
    'idle_timeout = 900',
    'data_timeout = 120',
    'login_timeout = 120',
    ...(fleet.workers ? [`workers = ${fleet.workers}`] : []),
    '',
    ...(fleet.redis ? ['[state]', `redis = ${JSON.stringify(fleet.redis)}`, ''] : []),
    '[tls]',
    `cert = ${JSON.stringify(env.cert.cert)}`,
    `key = ${JSON.stringify(env.cert.key)}`,
    '',
    '[anonymous]',
    'enabled = true',
    `root = ${JSON.stringify(env.dataset.root)}`,
    `upload_dir = ${JSON.stringify(env.dataset.incoming)}`,
    'max_connections = 10000',
    '',
    '[http]',
    'host = "127.0.0.1"',
    `port = ${env.httpPort}`,
    // BENCH_WHARF_LISTING_CACHE=0 measures directory pages made afresh on every request.
    ...(process.env.BENCH_WHARF_LISTING_CACHE ? [`listing_cache = ${Number(process.env.BENCH_WHARF_LISTING_CACHE)}`] : []),
    '',
    ...sftp,
    ...adminTables,
    ...hookTables,
    '[log]',
    `level = "${logLevel}"`,
    '',
  ].join('\n');
}

let adminHash: Promise<string> | null = null;

/** A hash of the admin password from `wharf hash-password` (made once per run). */
function adminTokenHash(root: string): Promise<string> {
  adminHash ??= new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(root, 'bin', 'wharf.js'), 'hash-password'], { timeout: 30_000 }, (err, stdout) =>
      err ? reject(new Error(`wharf hash-password: ${err.message}`)) : resolve(stdout.trim()),
    );
    child.stdin?.end(`${ADMIN_PASSWORD}\n`);
  });
  return adminHash;
}

/** GET /metrics on the admin listener, with the token. */
export function scrapeMetrics(port: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', headers: { Authorization: `Bearer ${ADMIN_PASSWORD}` }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('/metrics: timed out')));
    req.on('error', reject);
  });
}

/** The sum of a Prometheus counter's samples whose labels include every `match` (e.g. `result="ok"`). */
export function counterSum(text: string, name: string, ...match: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!match.every((m) => line.includes(m))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

/** Hook runs expected so far: one per download (complete or not) and one per complete upload. */
function hookRunsExpected(text: string): number {
  return counterSum(text, 'wharf_transfers_total', 'direction="download"') + counterSum(text, 'wharf_transfers_total', 'direction="upload"', 'result="ok"');
}

/** The console variants' `settle`: one scrape (console), or scrapes until every hook has run (hooks). */
function settler(adminPort: number, mode: ConsoleMode): () => Promise<string | null> {
  let seenTransfers = 0;
  let seenHooks = { ok: 0, failed: 0, dropped: 0 };
  return async () => {
    const t0 = performance.now();
    let text = await scrapeMetrics(adminPort);
    const transfers = counterSum(text, 'wharf_transfers_total');
    if (mode === 'console') {
      seenTransfers = transfers;
      return null;
    }
    const expected = hookRunsExpected(text);
    const runs = (t: string) => counterSum(t, 'wharf_hooks_total');
    for (let i = 0; runs(text) < expected && i < 2400; i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = await scrapeMetrics(adminPort);
    }
    const now = {
      ok: counterSum(text, 'wharf_hooks_total', 'result="ok"'),
      failed: counterSum(text, 'wharf_hooks_total', 'result="failed"'),
      dropped: counterSum(text, 'wharf_hooks_total', 'result="dropped"'),
    };
    const delta = { ok: now.ok - seenHooks.ok, failed: now.failed - seenHooks.failed, dropped: now.dropped - seenHooks.dropped };
    seenHooks = now;
    const newTransfers = transfers - seenTransfers;
    seenTransfers = transfers;
    const waited = (performance.now() - t0) / 1000;
    if (delta.ok + delta.failed + delta.dropped === 0) return null;
    const bad = delta.failed + delta.dropped > 0 ? `, ${delta.failed} failed, ${delta.dropped} dropped` : '';
    return `hooks: ${delta.ok} ran${bad} for ${newTransfers} transfers; the last finished ${waited.toFixed(2)} s after the transfers`;
  };
}

/** The cores `wharf-w2` runs on. */
const SCALE_CPU = process.env.BENCH_SCALE_CPU ?? '0,1';

/** The variant's remark in the report. */
function variantNote(mode: ConsoleMode, fleet: { workers?: number; redis?: boolean; copyLoop?: boolean }): string {
  if (mode === 'console') return '; [admin] on (metrics, status), /metrics scraped after each measurement';
  if (mode === 'hooks') return `; [admin] on and [[hooks]] on upload and download running ${HOOK_COMMAND}`;
  if (fleet.workers) return `; workers = ${fleet.workers} on cores ${SCALE_CPU} (shared with the load generator: a floor)`;
  if (fleet.redis) return '; [state] redis on a redis-server of its own, pinned to the same core';
  if (fleet.copyLoop) return '; WHARF_SENDFILE=0: downloads through the JavaScript copy loop, not sendfile(2)';
  return '';
}

/** Wharf, or one of its variants, from this work tree's dist/. */
function wharfSpec(name: string, mode: ConsoleMode, fleet: { workers?: number; redis?: boolean; copyLoop?: boolean } = {}): ServerSpec {
  const level = process.env.BENCH_WHARF_LOG ?? 'warn';
  const variant = mode !== 'off' || fleet.workers !== undefined || fleet.redis === true || fleet.copyLoop === true;
  return {
    name,
    tls: true,
    mlsd: true,
    // Hook processes are reaped by Wharf (their CPU is in its cutime/cstime) and charged to its cgroup;
    // workers are live children (counted with the process tree where there is no cgroup).
    forks: fleet.workers !== undefined,
    protocols: ['ftp', 'sftp', 'http'],
    ...(variant ? { variantOf: 'wharf' } : {}),
    note: `this work tree's build (dist/, copied at the start), log level ${level} (no line per transfer), no xferlog; SFTP: ssh2 ${ssh2Version()}, key login; [http] on${variantNote(mode, fleet)}`,
    async start(env) {
      const conf = path.join(env.workDir, 'wharf.toml');
      const sftpPort = env.ssh ? await freePort() : undefined;
      const root = env.wharfRoot ?? REPO;
      const admin = mode === 'off' ? undefined : { port: await freePort(), tokenHash: await adminTokenHash(root) };
      const redis = fleet.redis ? await startBenchRedis(env.cpu, env.workDir) : null;
      await writeFile(conf, wharfConfig(env, level, sftpPort, admin, mode === 'hooks', { workers: fleet.workers, redis: redis?.url }));
      const nodeArgs = env.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${env.profileDir}`] : [];
      const server = await startProcess(process.execPath, [...nodeArgs, path.join(root, 'bin', 'wharf.js'), 'serve', '--config', conf], {
        cpu: fleet.workers ? SCALE_CPU : env.cpu,
        port: env.port,
        logFile: path.join(env.workDir, 'wharf.log'),
        cwd: env.workDir,
        ...(fleet.copyLoop ? { env: { WHARF_SENDFILE: '0' } } : {}),
        probes: [
          { kind: 'ftp', port: env.port },
          ...(sftpPort !== undefined ? [{ kind: 'ssh' as const, port: sftpPort }] : []),
          { kind: 'http', port: env.httpPort },
          ...(admin ? [{ kind: 'http' as const, port: admin.port }] : []),
        ],
      }).catch(async (err: unknown) => {
        await redis?.stop();
        throw err;
      });
      const out: RunningServer = { ...server, httpPort: env.httpPort, ...(env.ssh ? { sftpUser: env.ssh.user.wharf } : {}) };
      if (redis) {
        out.redisStats = () => redis.stats();
        out.stop = async () => {
          await server.stop();
          await redis.stop();
        };
      }
      if (!admin) return out;
      try {
        // The first request with the token pays its scrypt check: not in any measurement.
        await scrapeMetrics(admin.port);
      } catch (err) {
        await server.stop();
        throw err;
      }
      return { ...out, settle: settler(admin.port, mode) };
    },
  };
}

/** Wharf as configured above. */
export const wharf = wharfSpec('wharf', 'off');

/** Wharf with the operator's console on (opt-in: BENCH_SERVERS=wharf,wharf-console). */
export const wharfConsole = wharfSpec('wharf-console', 'console');

/** Wharf with the console and an upload and a download hook running /bin/true (opt-in). */
export const wharfHooks = wharfSpec('wharf-hooks', 'hooks');

/** Wharf with `workers = 2` (opt-in: BENCH_SERVERS=wharf,wharf-w2 BENCH_SCENARIOS=sessions,clients). */
export const wharfW2 = wharfSpec('wharf-w2', 'off', { workers: 2 });

/** Wharf without sendfile(2): every download through the JavaScript copy loop (opt-in: BENCH_SERVERS=wharf,wharf-copy). */
export const wharfCopy = wharfSpec('wharf-copy', 'off', { copyLoop: true });

/** Wharf with its limits in Redis (opt-in: BENCH_SERVERS=wharf,wharf-redis BENCH_SCENARIOS=state-logins). */
export const wharfRedis = wharfSpec('wharf-redis', 'off', { redis: true });
