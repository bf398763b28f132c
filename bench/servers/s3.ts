/**
 * The servers of the S3 scenarios, all on the bucket of bench/s3/store.ts:
 *
 * - `wharf-s3`: Wharf with its anonymous root at `s3://bench/pub` (and the
 *   `incoming` drop box), `part_size` BENCH_S3_PART_MIB (8 MiB, Wharf's
 *   default) and 4 parts in flight;
 * - `rclone`: `rclone serve ftp` on the same bucket and prefix, configured
 *   through RCLONE_CONFIG_* variables (provider Other, path style, the
 *   same part size and concurrency: `--s3-chunk-size`,
 *   `--s3-upload-concurrency`), `--use-server-modtime` (without it rclone
 *   asks S3 for each object's metadata in a listing, one HEAD per entry),
 *   `--dir-cache-time 0s` (Wharf caches no listing either), anonymous with
 *   any password;
 * - `s3-sdk`: no server at all: the scenarios do the same work with the
 *   AWS SDK straight against the store, the ceiling of any front-end.
 *
 * Each FTP front-end is pinned to the server core; the store runs on its
 * own core (BENCH_S3_CPU).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NAMES } from '../dataset.js';
import { readOptions } from '../options.js';
import { S3_KEY, s3Store, type S3Store } from '../s3/store.js';
import { startProcess } from './launch.js';
import type { ServerSpec, StartEnv } from './types.js';

const execFileP = promisify(execFile);
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** The run's store (its data beside the dataset's root). */
function storeFor(env: StartEnv): Promise<S3Store> {
  return s3Store(path.dirname(env.dataset.root), path.join(env.dataset.root, NAMES.big));
}

function wharfS3Config(env: StartEnv, store: S3Store, partBytes: number): string {
  return [
    '[server]',
    'host = "127.0.0.1"',
    `port = ${env.port}`,
    `passive_ports = [${env.passive[0]}, ${env.passive[1]}]`,
    'max_connections = 10000',
    'max_connections_per_ip = 10000',
    'idle_timeout = 900',
    'data_timeout = 120',
    '',
    '[anonymous]',
    'enabled = true',
    `root = "s3://${store.bucket}/${store.prefix}"`,
    `upload_dir = "${store.incoming}"`,
    'max_connections = 10000',
    '',
    '[storage.s3]',
    `endpoint = "${store.endpoint}"`,
    'region = "us-east-1"',
    'force_path_style = true',
    `access_key_id = "${S3_KEY}"`,
    `secret_access_key = "${S3_KEY}"`,
    `part_size = ${partBytes}`,
    'upload_concurrency = 4',
    '',
    '[log]',
    `level = "${process.env.BENCH_WHARF_LOG ?? 'warn'}"`,
    '',
  ].join('\n');
}

/** Wharf on the bucket. */
export const wharfS3: ServerSpec = {
  name: 'wharf-s3',
  tls: false,
  mlsd: true,
  forks: false,
  protocols: ['s3'],
  note: "this work tree's build, anonymous root s3://bench/pub, 4 parts in flight",
  async start(env) {
    const store = await storeFor(env);
    const conf = path.join(env.workDir, 'wharf-s3.toml');
    await writeFile(conf, wharfS3Config(env, store, readOptions().s3PartBytes));
    const root = env.wharfRoot ?? REPO;
    return startProcess(process.execPath, [path.join(root, 'bin', 'wharf.js'), 'serve', '--config', conf], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'wharf-s3.log'),
      cwd: env.workDir,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
  },
};

/** `rclone serve ftp` on the bucket. */
export const rclone: ServerSpec = {
  name: 'rclone',
  tls: false,
  mlsd: false,
  forks: false,
  protocols: ['s3'],
  note: 'Debian rclone, `serve ftp`, --use-server-modtime, --dir-cache-time 0s, same part size and concurrency',
  async start(env) {
    // Debian's rclone 1.60.1+dfsg is built without its FTP server: say so in one line rather than a usage text.
    const help = await execFileP('rclone', ['serve', '--help'], { timeout: 10_000 }).catch((err: unknown) => ({ stdout: String(err) }));
    if (!/^\s+ftp\s/m.test(help.stdout)) throw new Error('this rclone has no `serve ftp` (Debian builds it without the FTP server)');
    const store = await storeFor(env);
    const opts = readOptions();
    const remote = {
      RCLONE_CONFIG_WHARFBENCH_TYPE: 's3',
      RCLONE_CONFIG_WHARFBENCH_PROVIDER: 'Other',
      RCLONE_CONFIG_WHARFBENCH_ENDPOINT: store.endpoint,
      RCLONE_CONFIG_WHARFBENCH_REGION: 'us-east-1',
      RCLONE_CONFIG_WHARFBENCH_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_WHARFBENCH_ACCESS_KEY_ID: S3_KEY,
      RCLONE_CONFIG_WHARFBENCH_SECRET_ACCESS_KEY: S3_KEY,
    };
    const args = [
      'serve',
      'ftp',
      `wharfbench:${store.bucket}/${store.prefix}`,
      '--addr',
      `127.0.0.1:${env.port}`,
      '--passive-port',
      `${env.passive[0]}-${env.passive[1]}`,
      '--user',
      'anonymous',
      '--use-server-modtime',
      '--dir-cache-time',
      '0s',
      '--s3-chunk-size',
      `${Math.round(opts.s3PartBytes / 1024)}Ki`,
      '--s3-upload-concurrency',
      '4',
      '--log-level',
      'ERROR',
    ];
    return startProcess('rclone', args, { cpu: env.cpu, port: env.port, logFile: path.join(env.workDir, 'rclone.log'), env: { ...process.env, ...remote } });
  },
};

/** The direct-SDK ceiling: a stand-in "server" whose pid is the store's (its CPU is the store's). */
export const s3Sdk: ServerSpec = {
  name: 's3-sdk',
  tls: false,
  mlsd: false,
  forks: false,
  protocols: ['s3'],
  note: 'no FTP: the same work with @aws-sdk/client-s3 straight against the store (the ceiling)',
  async start(env) {
    const store = await storeFor(env);
    return { pid: store.pid, host: '127.0.0.1', port: 0, direct: true, stop: async () => undefined };
  },
};
