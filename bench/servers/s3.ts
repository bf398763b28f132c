/**
 * The servers of the S3 scenarios, all on the bucket of bench/s3/store.ts:
 *
 * - `wharf-s3`: Wharf with its anonymous root at `s3://bench/pub` (and the
 *   `incoming` drop box), `part_size` BENCH_S3_PART_MIB (8 MiB, Wharf's
 *   default) and 4 parts in flight; with the run's SSH keys it also serves
 *   SFTP to a key-login user whose home is the same `s3://bench/pub`, and
 *   its web view (`[http]`) serves the anonymous root, with
 *   `listing_cache = 0` (every page listed afresh, as rclone's
 *   `--dir-cache-time 0s` and the SDK ceiling do);
 * - `rclone-s3`: `rclone serve sftp` and `rclone serve http` on the same
 *   bucket and prefix, two processes in one cgroup (see {@link rcloneS3});
 * - `rclone`: `rclone serve ftp` on the same bucket and prefix (Debian's
 *   rclone is built without it, so it runs only when named);
 * - `s3-sdk`: no server at all: the scenarios do the same work with the
 *   AWS SDK straight against the store, the ceiling of any front-end.
 *
 * The rclone servers are configured through RCLONE_CONFIG_* variables
 * (provider Other, path style), with the same part size and concurrency
 * as Wharf (`--s3-chunk-size`, `--s3-upload-concurrency`),
 * `--use-server-modtime` (without it rclone asks S3 for each object's
 * metadata in a listing, one HEAD per entry) and `--dir-cache-time 0s`
 * (Wharf caches no listing either).
 *
 * Each front-end is pinned to the server core; the store runs on its own
 * core (BENCH_S3_CPU).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NAMES } from '../dataset.js';
import { readOptions } from '../options.js';
import { S3_KEY, s3Store, type S3Store } from '../s3/store.js';
import { freePort, startGroup, startProcess, type Probe } from './launch.js';
import type { RunningServer, ServerSpec, StartEnv } from './types.js';

const execFileP = promisify(execFile);
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** The run's store (its data beside the dataset's root). */
function storeFor(env: StartEnv): Promise<S3Store> {
  return s3Store(path.dirname(env.dataset.root), path.join(env.dataset.root, NAMES.big));
}

/** `[sftp]` and its user (key login, home the served prefix), when the run has SSH keys. */
function wharfS3Sftp(env: StartEnv, store: S3Store, sftpPort: number | undefined): string[] {
  const ssh = env.ssh;
  if (!ssh || sftpPort === undefined) return [];
  return [
    '[sftp]',
    `port = ${sftpPort}`,
    `host_keys = [${JSON.stringify(ssh.wharfHostKey)}]`,
    '',
    '[[users]]',
    `name = ${JSON.stringify(ssh.user.wharf)}`,
    `password = ${JSON.stringify(ssh.passwordHash)}`,
    `home = "s3://${store.bucket}/${store.prefix}"`,
    'permissions = ["*"]',
    `authorized_keys = [${JSON.stringify(ssh.clientPub)}]`,
    '',
  ];
}

function wharfS3Config(env: StartEnv, store: S3Store, partBytes: number, sftpPort: number | undefined): string {
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
    '[http]',
    'host = "127.0.0.1"',
    `port = ${env.httpPort}`,
    // Every page listed afresh, like rclone with --dir-cache-time 0s and the SDK ceiling (BENCH_WHARF_LISTING_CACHE overrides).
    `listing_cache = ${Number(process.env.BENCH_WHARF_LISTING_CACHE ?? 0)}`,
    '',
    ...wharfS3Sftp(env, store, sftpPort),
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

/** Wharf on the bucket: FTP, and SFTP and its web view on the same root. */
export const wharfS3: ServerSpec = {
  name: 'wharf-s3',
  tls: false,
  mlsd: true,
  forks: false,
  protocols: ['s3', 's3-sftp', 's3-http'],
  note: "this work tree's build, anonymous root s3://bench/pub, 4 parts in flight; SFTP (key login, home s3://bench/pub) and [http] (listing_cache = 0) on the same root",
  async start(env) {
    const store = await storeFor(env);
    const conf = path.join(env.workDir, 'wharf-s3.toml');
    const sftpPort = env.ssh ? await freePort() : undefined;
    await writeFile(conf, wharfS3Config(env, store, readOptions().s3PartBytes, sftpPort));
    const root = env.wharfRoot ?? REPO;
    const probes: Probe[] = [{ kind: 'ftp', port: env.port }, ...(sftpPort !== undefined ? [{ kind: 'ssh' as const, port: sftpPort }] : []), { kind: 'http', port: env.httpPort }];
    const server = await startProcess(process.execPath, [path.join(root, 'bin', 'wharf.js'), 'serve', '--config', conf], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'wharf-s3.log'),
      cwd: env.workDir,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      probes,
    });
    return { ...server, httpPort: env.httpPort, ...(env.ssh ? { sftpUser: env.ssh.user.wharf } : {}) };
  },
};

/**
 * The rclone remote `wharfbench:` on the store, as environment variables.
 * AWS_CA_BUNDLE is emptied: where it is set (to a CA file, as on these
 * machines), rclone 1.60's AWS SDK fails to load it into rclone's own HTTP
 * transport and the remote cannot be made (the endpoint is plain HTTP).
 */
function rcloneRemote(store: S3Store): NodeJS.ProcessEnv {
  return {
    RCLONE_CONFIG_WHARFBENCH_TYPE: 's3',
    RCLONE_CONFIG_WHARFBENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_WHARFBENCH_ENDPOINT: store.endpoint,
    RCLONE_CONFIG_WHARFBENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_WHARFBENCH_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_WHARFBENCH_ACCESS_KEY_ID: S3_KEY,
    RCLONE_CONFIG_WHARFBENCH_SECRET_ACCESS_KEY: S3_KEY,
    AWS_CA_BUNDLE: '',
  };
}

/** What every rclone front-end gets: Wharf's part size and concurrency, server modtimes, no listing cache, errors only. */
function rcloneCommon(store: S3Store, partBytes: number): string[] {
  return [
    `wharfbench:${store.bucket}/${store.prefix}`,
    '--use-server-modtime',
    '--dir-cache-time',
    '0s',
    '--s3-chunk-size',
    `${Math.round(partBytes / 1024)}Ki`,
    '--s3-upload-concurrency',
    '4',
    '--log-level',
    'ERROR',
  ];
}

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
    const args = [
      'serve',
      'ftp',
      ...rcloneCommon(store, readOptions().s3PartBytes),
      '--addr',
      `127.0.0.1:${env.port}`,
      '--passive-port',
      `${env.passive[0]}-${env.passive[1]}`,
      '--user',
      'anonymous',
    ];
    return startProcess('rclone', args, { cpu: env.cpu, port: env.port, logFile: path.join(env.workDir, 'rclone.log'), env: { ...process.env, ...rcloneRemote(store) } });
  },
};

/** The rclone binary's version line (`rclone v1.60.1-DEV`), read once. */
let rcloneVersion = 'rclone';

/**
 * `rclone serve sftp` and `rclone serve http` on the bucket, the other
 * SFTP and HTTP front-ends of an object store: two processes pinned to the
 * server core in one cgroup (their CPU together is the server's; the one
 * not in use idles). Besides {@link rcloneCommon}:
 *
 * - `--vfs-cache-mode off` (rclone's default, said explicitly): reads and
 *   writes stream to and from S3 as Wharf's do, with no local disk copy;
 *   sequential uploads work in this mode (out-of-order writes wait up to
 *   `--vfs-write-wait`), so no cache is needed;
 * - `--no-checksum`: rclone otherwise hashes every download (MD5) to
 *   compare it with the object's ETag at the end; Wharf checks no hash,
 *   so this keeps the work the same;
 * - SFTP: the run's sshd ed25519 host key (`--key`), and the client's
 *   public key in an `--authorized-keys` file (any user name; no
 *   password); HTTP: no authentication, like Wharf's anonymous web view.
 */
export const rcloneS3: ServerSpec = {
  name: 'rclone-s3',
  tls: false,
  mlsd: false,
  forks: false,
  protocols: ['s3-sftp', 's3-http'],
  get note() {
    return `${rcloneVersion}, \`serve sftp\` and \`serve http\` (two processes, one cgroup), --vfs-cache-mode off, --no-checksum, --use-server-modtime, --dir-cache-time 0s, same part size and concurrency`;
  },
  async start(env): Promise<RunningServer> {
    const ssh = env.ssh;
    if (!ssh) throw new Error("rclone-s3 needs the run's SSH keys (ssh-keygen)");
    const version = await execFileP('rclone', ['version'], { timeout: 10_000 });
    rcloneVersion = version.stdout.split('\n')[0]?.trim() ?? 'rclone';
    const store = await storeFor(env);
    const common = rcloneCommon(store, readOptions().s3PartBytes);
    const keys = path.join(env.workDir, 'authorized_keys');
    await writeFile(keys, `${ssh.clientPub}\n`);
    const vfs = ['--vfs-cache-mode', 'off', '--no-checksum'];
    const sftpPort = env.port;
    const server = await startGroup(
      [
        {
          command: 'rclone',
          args: ['serve', 'sftp', ...common, ...vfs, '--addr', `127.0.0.1:${sftpPort}`, '--key', ssh.sshdHostKey, '--authorized-keys', keys],
          logFile: path.join(env.workDir, 'rclone-sftp.log'),
          probe: { kind: 'ssh', port: sftpPort },
        },
        {
          command: 'rclone',
          args: ['serve', 'http', ...common, ...vfs, '--addr', `127.0.0.1:${env.httpPort}`],
          logFile: path.join(env.workDir, 'rclone-http.log'),
          probe: { kind: 'http', port: env.httpPort },
        },
      ],
      { cpu: env.cpu, cwd: env.workDir, env: { ...rcloneRemote(store), RCLONE_CONFIG: path.join(env.workDir, 'rclone.conf') } },
    );
    return { ...server, sftpUser: ssh.user.wharf };
  },
};

/** The direct-SDK ceiling: a stand-in "server" whose pid is the store's (its CPU is the store's). */
export const s3Sdk: ServerSpec = {
  name: 's3-sdk',
  tls: false,
  mlsd: false,
  forks: false,
  protocols: ['s3', 's3-sftp', 's3-http'],
  note: 'no front-end: the same work with @aws-sdk/client-s3 straight against the store (the ceiling)',
  async start(env) {
    const store = await storeFor(env);
    return { pid: store.pid, host: '127.0.0.1', port: 0, direct: true, stop: async () => undefined };
  },
};
