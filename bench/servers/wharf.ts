/**
 * Wharf itself: `node bin/wharf.js serve --config <generated toml>`, with
 * anonymous access to the dataset, a drop box for uploads, FTPS enabled
 * (plain sessions still allowed), limits raised for 1,000 sessions, and
 * logging at "warn" so that, like the peers, it logs no line per command.
 * With the run's SSH keys it also serves SFTP on a second port: `[sftp]`
 * with a host key from `wharf gen-hostkey`, and one user whose home is the
 * dataset and who logs in with the client's key (as root does on sshd).
 */
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { freePort, startProcess } from './launch.js';
import type { ServerSpec, StartEnv } from './types.js';

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
  await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Wharf's TOML for the benchmark; `sftpPort` turns on `[sftp]` with a key-login user whose home is the dataset. */
export function wharfConfig(env: StartEnv, logLevel: string, sftpPort?: number): string {
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
    '',
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
    ...sftp,
    '[log]',
    `level = "${logLevel}"`,
    '',
  ].join('\n');
}

/** Wharf, from this work tree's dist/. */
export const wharf: ServerSpec = {
  name: 'wharf',
  tls: true,
  mlsd: true,
  forks: false,
  protocols: ['ftp', 'sftp'],
  note: `this work tree's build (dist/, copied at the start), log level ${process.env.BENCH_WHARF_LOG ?? 'warn'}; SFTP: ssh2 ${ssh2Version()}, key login`,
  async start(env) {
    const conf = path.join(env.workDir, 'wharf.toml');
    const sftpPort = env.ssh ? await freePort() : undefined;
    await writeFile(conf, wharfConfig(env, process.env.BENCH_WHARF_LOG ?? 'warn', sftpPort));
    const nodeArgs = env.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${env.profileDir}`] : [];
    const root = env.wharfRoot ?? REPO;
    const server = await startProcess(process.execPath, [...nodeArgs, path.join(root, 'bin', 'wharf.js'), 'serve', '--config', conf], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'wharf.log'),
      cwd: env.workDir,
      probes: [{ kind: 'ftp', port: env.port }, ...(sftpPort !== undefined ? [{ kind: 'ssh' as const, port: sftpPort }] : [])],
    });
    return env.ssh ? { ...server, sftpUser: env.ssh.user.wharf } : server;
  },
};
