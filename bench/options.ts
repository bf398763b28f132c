/**
 * Benchmark settings from the environment. The defaults are the issue's
 * sizes; BENCH_QUICK=1 shrinks everything for a smoke run of well under a
 * minute. Every size can also be set on its own.
 */

/** All settings of one run. */
export interface Options {
  quick: boolean;
  reps: number;
  /** Servers to run, by name. */
  servers: string[];
  /** Scenario ids (or prefixes) to run; empty = all. */
  scenarios: string[];
  tls: boolean;
  ceilings: boolean;
  bigBytes: number;
  clients: number;
  clientBytes: number;
  listSizes: number[];
  /** The opt-in scaling scenarios: directory sizes of `scale-list-N`/`scale-mlsd-N`, and file sizes (bytes) of `scale-small-K`. */
  scaleListSizes: number[];
  scaleSmallSizes: number[];
  /** Warm-up (s of downloads) of the first `scale-small-K` run on a server. */
  scaleWarmSeconds: number;
  smallFiles: number;
  smallSize: number;
  sessions: number;
  sessionConcurrency: number;
  idleSessions: number;
  /** SFTP: concurrent clients (each fetches the client file), and logins (how many, how many in flight). */
  sftpClients: number;
  sftpLogins: number;
  sftpLoginConcurrency: number;
  /** HTTP: the directory page's size (entries), how many GETs of it at most (time-boxed), and the big download's client (curl, or the raw Node client). */
  httpDirEntries: number;
  httpDirRequests: number;
  httpClient: 'node' | 'curl';
  /** S3: objects in the listed prefix, uploads of `smallSize` bytes, Wharf's and rclone's part size (bytes), and the S3 server's core. */
  s3ListSize: number;
  s3SmallUploads: number;
  s3PartBytes: number;
  s3Cpu: string;
  /** Upper bound in seconds for the time-boxed scenarios (small files, session rate). */
  budgetSeconds: number;
  /** Timeout for one transfer, in ms. */
  transferTimeoutMs: number;
  /** Core for the servers, and for the load generator (informational: run.sh pins it). */
  serverCpu: string;
  clientCpu: string;
  /** Profile Wharf with --cpu-prof on RETR and small files instead of the full run. */
  profile: boolean;
  /** A measurement during which other processes used more of the server's core than this (%) is repeated... */
  noiseRetryPct: number;
  /** ...up to this many attempts in all (the quietest is kept), pausing this many seconds times the attempts so far in between. */
  noiseTries: number;
  noiseWaitSeconds: number;
  /** Where the dataset goes (a temp directory is made inside). */
  tmpBase: string;
  keepData: boolean;
  /** Where listing directories of 100,000 entries or more are kept between runs ('' = made afresh and deleted each run). */
  listCache: string;
}

const MiB = 1 << 20;

function num(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: not a number: ${v}`);
  return n;
}

function list(name: string, fallback: string[]): string[] {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The servers of the default run, in report order (Wharf first). */
export const ALL_SERVERS = ['wharf', 'vsftpd', 'pure-ftpd', 'pyftpdlib', 'ftp-srv', 'openssh', 'nginx', 'node-http', 'wharf-s3', 'rclone-s3', 's3-sdk'];

/** Variants of Wharf, run only when named in BENCH_SERVERS (see servers/wharf.ts). */
export const OPT_IN_SERVERS = ['wharf-console', 'wharf-hooks', 'wharf-w2', 'wharf-redis', 'rclone'];

/** Reads the settings. */
export function readOptions(): Options {
  const quick = process.env.BENCH_QUICK === '1';
  return {
    quick,
    reps: Math.max(1, Math.round(num('BENCH_REPS', quick ? 1 : 3))),
    servers: list('BENCH_SERVERS', ALL_SERVERS),
    scenarios: list('BENCH_SCENARIOS', []),
    tls: process.env.BENCH_TLS !== '0',
    ceilings: process.env.BENCH_CEILINGS !== '0',
    bigBytes: Math.round(num('BENCH_BIG_MIB', quick ? 64 : 1024) * MiB),
    clients: Math.round(num('BENCH_CLIENTS', 100)),
    clientBytes: Math.round(num('BENCH_CLIENT_MIB', quick ? 1 : 10) * MiB),
    listSizes: list('BENCH_LIST_SIZES', quick ? ['1000', '10000'] : ['10000', '100000']).map(Number),
    scaleListSizes: positive('BENCH_SCALE_SIZES', quick ? ['1000', '10000'] : ['1000', '10000', '100000', '1000000']),
    scaleSmallSizes: positive('BENCH_SCALE_SMALL_KIB', ['1', '4', '64']).map((k) => Math.round(k * 1024)),
    scaleWarmSeconds: num('BENCH_SCALE_WARM_S', 15),
    smallFiles: Math.round(num('BENCH_SMALL_FILES', quick ? 200 : 1000)),
    smallSize: Math.round(num('BENCH_SMALL_KIB', 4) * 1024),
    sessions: Math.round(num('BENCH_SESSIONS', quick ? 200 : 1000)),
    sessionConcurrency: Math.round(num('BENCH_SESSION_CONCURRENCY', 10)),
    idleSessions: Math.round(num('BENCH_IDLE', quick ? 200 : 1000)),
    sftpClients: Math.round(num('BENCH_SFTP_CLIENTS', quick ? 10 : 50)),
    sftpLogins: Math.round(num('BENCH_SFTP_LOGINS', quick ? 100 : 500)),
    sftpLoginConcurrency: Math.max(1, Math.round(num('BENCH_SFTP_LOGIN_CONCURRENCY', 16))),
    httpDirEntries: Math.max(1, Math.round(num('BENCH_HTTP_DIR', 10000))),
    httpDirRequests: Math.max(1, Math.round(num('BENCH_HTTP_DIR_REQUESTS', quick ? 50 : 500))),
    httpClient: httpClient(),
    s3ListSize: Math.max(1, Math.round(num('BENCH_S3_LIST', quick ? 1000 : 10000))),
    s3SmallUploads: Math.max(1, Math.round(num('BENCH_S3_SMALL', quick ? 20 : 100))),
    s3PartBytes: Math.round(num('BENCH_S3_PART_MIB', 8) * MiB),
    s3Cpu: process.env.BENCH_S3_CPU ?? process.env.BENCH_CLIENT_CPU ?? '1',
    budgetSeconds: num('BENCH_BUDGET_S', quick ? 3 : 5),
    transferTimeoutMs: Math.round(num('BENCH_TIMEOUT_S', 120) * 1000),
    serverCpu: process.env.BENCH_SERVER_CPU ?? '0',
    clientCpu: process.env.BENCH_CLIENT_CPU ?? '1',
    profile: process.env.BENCH_PROFILE === '1',
    noiseRetryPct: num('BENCH_NOISE_RETRY', 10),
    noiseTries: Math.max(1, Math.round(num('BENCH_NOISE_TRIES', 3))),
    noiseWaitSeconds: num('BENCH_NOISE_WAIT_S', 0),
    tmpBase: process.env.BENCH_TMP ?? '/tmp',
    keepData: process.env.BENCH_KEEP_DATA === '1',
    listCache: listCache(process.env.BENCH_TMP ?? '/tmp'),
  };
}

/** A comma list of positive numbers. */
function positive(name: string, fallback: string[]): number[] {
  return list(name, fallback).map((v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: not a positive number: ${v}`);
    return n;
  });
}

function listCache(tmp: string): string {
  const v = process.env.BENCH_LIST_CACHE;
  if (v === '0') return '';
  return v !== undefined && v !== '' ? v : `${tmp.replace(/\/+$/, '')}/wharf-bench-lists`;
}

function httpClient(): 'node' | 'curl' {
  const v = process.env.BENCH_HTTP_CLIENT ?? 'curl';
  if (v !== 'node' && v !== 'curl') throw new Error(`BENCH_HTTP_CLIENT: node or curl, not ${v}`);
  return v;
}

/**
 * True when scenario `id` is selected: named by id or prefix in
 * BENCH_SCENARIOS, or, when that is empty, any scenario but the opt-in ones.
 */
export function wanted(opts: Options, id: string, optIn = false): boolean {
  if (opts.scenarios.length === 0) return !optIn;
  return opts.scenarios.some((s) => id === s || id.startsWith(s));
}

/** Ids of the opt-in scaling scenarios (here so the dataset can tell what they need). */
export const SCALE_IDS = {
  listing: (kind: 'LIST' | 'MLSD', n: number) => `scale-${kind.toLowerCase()}-${n}`,
  small: (bytes: number) => `scale-small-${+(bytes / 1024).toFixed(2)}k`,
};
