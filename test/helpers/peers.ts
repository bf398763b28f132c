/**
 * Test helpers that start real third-party FTP servers on loopback for the
 * client's interop tests: pyftpdlib (Debian's python3-pyftpdlib, run with
 * /usr/bin/python3) and vsftpd (inetd mode behind a Node listener on port 0,
 * so no port is ever guessed). Also temp directories, file trees and
 * self-signed certificates (made as `wharf gen-cert` makes them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateSelfSigned } from '../../src/cli/genCert.js';

/** A running peer server. */
export interface Peer {
  host: string;
  port: number;
  /** `ftp://127.0.0.1:PORT` (or `ftps://` for implicit TLS). */
  url: string;
  /** The directory served. */
  root: string;
  /** Stops the server and waits for its processes to exit. */
  close(): Promise<void>;
}

/** Paths of a self-signed certificate and its key. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** Creates a temp directory removed by the returned cleanup. */
export async function tempDir(prefix = 'wharf-client-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

/** Writes a tree of files: keys are relative paths, values contents. */
export async function makeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel);
    await fs.promises.mkdir(path.dirname(full), { recursive: true });
    await fs.promises.writeFile(full, content);
  }
}

/** Reads a tree into relative path -> sha256 (directories as `dir`). */
export async function readTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string, rel: string): Promise<void> {
    for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[r] = 'dir';
        await walk(path.join(dir, e.name), r);
      } else {
        out[r] = sha256(await fs.promises.readFile(path.join(dir, e.name)));
      }
    }
  }
  await walk(root, '');
  return out;
}

/** Hex sha256 of a buffer. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (so failures are reproducible). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 255;
  }
  return b;
}

/** Generates a self-signed certificate for 127.0.0.1 / ::1 / localhost (with `wharf gen-cert`'s code), valid two days. */
export function makeCert(dir: string): Promise<CertFiles> {
  return generateSelfSigned(dir, 'localhost', 2);
}

/** Options for {@link startPyftpdlib}. */
export interface PyftpdlibOptions {
  root: string;
  /** A read-write user `user` with this password is added (default `secret`). */
  password?: string;
  /** Offer MLSD/MLST (default true); false makes the client fall back to LIST. */
  mlsd?: boolean;
  /** Serve explicit FTPS with this certificate. */
  tls?: CertFiles;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
}

const PY_SERVER = `
import sys, json, logging
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer
o = json.loads(sys.argv[1])
logging.basicConfig(level=logging.ERROR)
auth = DummyAuthorizer()
auth.add_user('user', o['password'], o['root'], perm='elradfmwMT')
auth.add_anonymous(o['root'], perm='elr')
base = TLS_FTPHandler if o.get('cert') else FTPHandler
class Handler(base):
    pass
Handler.authorizer = auth
Handler.banner = 'pyftpdlib ready'
if o.get('cert'):
    Handler.certfile = o['cert']
    Handler.keyfile = o['key']
if not o['mlsd']:
    Handler.proto_cmds = {k: v for k, v in base.proto_cmds.items() if k not in ('MLSD', 'MLST')}
server = FTPServer((o['host'], 0), Handler)
print(server.address[1], flush=True)
server.serve_forever(timeout=0.5)
`;

/** Starts pyftpdlib on a free loopback port; resolves once it listens. */
export async function startPyftpdlib(options: PyftpdlibOptions): Promise<Peer> {
  const host = options.host ?? '127.0.0.1';
  const config = {
    root: options.root,
    password: options.password ?? 'secret',
    mlsd: options.mlsd ?? true,
    host,
    cert: options.tls?.cert,
    key: options.tls?.key,
  };
  const child = spawn('/usr/bin/python3', ['-u', '-c', PY_SERVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await firstLine(child, 'pyftpdlib');
  const url = `ftp://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  return { host, port: Number(port), url, root: options.root, close: () => stopChild(child) };
}

/** Resolves with the first stdout line of a child; rejects if it exits first. */
function firstLine(child: ChildProcess, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening: ${err.trim()}`)));
  });
}

/** Sends SIGTERM and waits for exit. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Options for {@link startVsftpd}. */
export interface VsftpdOptions {
  /** Anonymous root; vsftpd requires it not to be writable by the ftp user. */
  root: string;
  /** Scratch directory for the config file and the secure chroot dir. */
  workDir: string;
  /** Enable TLS (explicit, or implicit with `implicit: true`). */
  tls?: CertFiles;
  implicit?: boolean;
  /** Force TLS for anonymous control and data (vsftpd's force_anon_*_ssl). */
  forceTls?: boolean;
}

/**
 * Starts vsftpd for anonymous read-only access. A Node listener on port 0
 * accepts each control connection and hands the socket to a vsftpd process
 * in inetd mode (`listen=NO`), so readiness is immediate and no port is
 * guessed. vsftpd 3.0.3 requires TLS session reuse on data connections.
 */
export async function startVsftpd(options: VsftpdOptions): Promise<Peer> {
  const emptyDir = path.join(options.workDir, 'vsftpd-empty');
  await fs.promises.mkdir(emptyDir, { recursive: true });
  const lines = [
    'listen=NO',
    'listen_ipv6=NO',
    'anonymous_enable=YES',
    'local_enable=NO',
    'write_enable=NO',
    `anon_root=${options.root}`,
    'no_anon_password=YES',
    'seccomp_sandbox=NO',
    'run_as_launching_user=YES',
    `secure_chroot_dir=${emptyDir}`,
    'xferlog_enable=NO',
    'syslog_enable=NO',
    'use_localtime=NO',
    'pasv_enable=YES',
    'port_enable=YES',
    'connect_from_port_20=NO',
    'ftpd_banner=vsftpd ready',
  ];
  if (options.tls) {
    lines.push('ssl_enable=YES', `rsa_cert_file=${options.tls.cert}`, `rsa_private_key_file=${options.tls.key}`, 'allow_anon_ssl=YES', 'require_ssl_reuse=YES', 'ssl_ciphers=HIGH');
    lines.push(`force_anon_logins_ssl=${options.forceTls ? 'YES' : 'NO'}`, `force_anon_data_ssl=${options.forceTls ? 'YES' : 'NO'}`);
    if (options.implicit) lines.push('implicit_ssl=YES');
  }
  const conf = path.join(options.workDir, `vsftpd-${process.pid}-${Date.now()}.conf`);
  await fs.promises.writeFile(conf, `${lines.join('\n')}\n`);
  // vsftpd 3.0.3 predates TLS 1.3; cap OpenSSL at 1.2 as PEERS.md advises.
  const sslConf = path.join(options.workDir, 'openssl-tls12.cnf');
  await fs.promises.writeFile(sslConf, 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nMaxProtocol = TLSv1.2\n');
  const children = new Set<ChildProcess>();
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const child = spawn('/usr/sbin/vsftpd', [conf], {
      stdio: [socket, socket, 'ignore'],
      env: { ...process.env, OPENSSL_CONF: sslConf },
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    child.once('error', () => children.delete(child));
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const scheme = options.tls && options.implicit ? 'ftps' : 'ftp';
  return {
    host: '127.0.0.1',
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    root: options.root,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...children].map((c) => stopChild(c)));
    },
  };
}

/** Result of {@link runCli}. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** The CLI entry to spawn: bin/wharf.js. */
export function cliEntry(): string {
  return path.join(REPO, 'bin', 'wharf.js');
}

/** Spawns `node <wharf> ...args`, feeding `input` on stdin (not a TTY), and collects the output. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry(), ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wharf ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
