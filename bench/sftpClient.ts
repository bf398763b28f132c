/**
 * The SFTP load generator's clients: OpenSSH's `sftp -b -` as a child
 * process pinned to the client core, and a login with the ssh2 library in
 * this process. The OpenSSH processes run in a cpuacct cgroup of their own
 * (where the machine has one) so their CPU counts as load generator CPU.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { createCpuGroup, groupCpuSeconds } from './proc.js';

/**
 * The algorithms every client asks for, so both servers run the same ones:
 * curve25519 key exchange (OpenSSH 9.x would otherwise pick
 * sntrup761x25519, which ssh2 lacks and whose key generation alone costs
 * the client about 80 ms per login here), OpenSSH's default cipher, and
 * ed25519 host keys (both servers have one).
 */
export const ALGORITHMS = { kex: 'curve25519-sha256', cipher: 'chacha20-poly1305@openssh.com', hostKey: 'ssh-ed25519' } as const;

/** Options every OpenSSH client invocation gets: no config files, no host key checks or prompts, key only, bounded connect, {@link ALGORITHMS}. */
export const SFTP_OPTIONS = [
  '-F',
  '/dev/null',
  '-oStrictHostKeyChecking=no',
  '-oUserKnownHostsFile=/dev/null',
  '-oGlobalKnownHostsFile=/dev/null',
  '-oLogLevel=ERROR',
  '-oBatchMode=yes',
  '-oIdentitiesOnly=yes',
  '-oPasswordAuthentication=no',
  '-oKbdInteractiveAuthentication=no',
  '-oConnectTimeout=10',
  `-oKexAlgorithms=${ALGORITHMS.kex}`,
  `-oCiphers=${ALGORITHMS.cipher}`,
  `-oHostKeyAlgorithms=${ALGORITHMS.hostKey}`,
];

/** Where and as whom the clients log in. */
export interface SftpTarget {
  host: string;
  port: number;
  user: string;
  /** The private key file. */
  key: string;
}

let clientGroup: Promise<string | null> | null = null;

/** The cgroup (cpuacct) the OpenSSH client processes run in, made once per run; null where there is none. */
export function clientCpuGroup(): Promise<string | null> {
  clientGroup ??= createCpuGroup(`wharf-bench-${process.pid}-clients`);
  return clientGroup;
}

/** CPU seconds the client processes have used so far (0 without a cgroup). */
export async function clientChildSeconds(): Promise<number> {
  const group = await clientCpuGroup();
  return group ? groupCpuSeconds(group) : 0;
}

/** What one `sftp` run did. */
export interface SftpRun {
  /** From spawn to exit, in seconds. */
  seconds: number;
  stderr: string;
}

/**
 * Runs OpenSSH's `sftp -b -` with `commands` (one per line) on `cpu`,
 * in the client cgroup; rejects when it exits non-zero (sftp -b stops at
 * the first failed command) or runs past `timeoutMs`.
 */
export async function runSftp(target: SftpTarget, commands: string[], cpu: string, timeoutMs: number): Promise<SftpRun> {
  const group = await clientCpuGroup();
  const sftp = ['taskset', '-c', cpu, 'sftp', ...SFTP_OPTIONS, '-i', target.key, '-P', String(target.port), '-b', '-', `${target.user}@${target.host}`];
  const argv = group ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', group, ...sftp] : sftp;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve({ seconds, stderr });
      else
        reject(
          new Error(`sftp exited with ${code ?? signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs / 1000} s)` : ''}: ${stderr.trim().replace(/\s+/g, ' ').slice(0, 300)}`),
        );
    });
    child.stdin.end(`${commands.join('\n')}\n`);
  });
}

const keys = new Map<string, Buffer>();

/**
 * One login with the ssh2 client: connect, key exchange, public key
 * authentication, open the `sftp` subsystem, then close and wait for the
 * connection to be gone. Resolves with the time it took in seconds.
 */
export function sftpLogin(target: SftpTarget, timeoutMs: number): Promise<number> {
  let key = keys.get(target.key);
  if (!key) {
    key = readFileSync(target.key);
    keys.set(target.key, key);
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let opened = false;
    let failure: Error | null = null;
    const timer = setTimeout(() => {
      failure ??= new Error(`login not done within ${timeoutMs} ms`);
      client.destroy();
    }, timeoutMs);
    client.once('ready', () => {
      client.sftp((err) => {
        if (err) failure ??= err;
        else opened = true;
        client.end();
      });
    });
    client.on('error', (err) => void (failure ??= err));
    client.once('close', () => {
      clearTimeout(timer);
      if (opened && !failure) resolve((performance.now() - t0) / 1000);
      else reject(failure ?? new Error('closed before the sftp subsystem opened'));
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: key,
      readyTimeout: timeoutMs,
      hostVerifier: () => true,
      algorithms: { kex: [ALGORITHMS.kex], cipher: [ALGORITHMS.cipher], serverHostKey: [ALGORITHMS.hostKey] },
    });
  });
}

/** A logged-in SFTP session of the ssh2 client, for work measured without its login (a listing, many small uploads). */
export interface SftpSession {
  /** The names in a directory (ssh2's readdir: opendir, READDIR until EOF, close). */
  list(dir: string): Promise<string[]>;
  /** Creates (or truncates) `file` holding `body`: OPEN, one WRITE, CLOSE. */
  put(file: string, body: Buffer): Promise<void>;
  /** Ends the connection and waits for it to close. */
  close(): Promise<void>;
}

/** Logs in with the ssh2 client (as {@link sftpLogin}) and opens the `sftp` subsystem; rejects after `timeoutMs`. */
export function openSftpSession(target: SftpTarget, timeoutMs: number): Promise<SftpSession> {
  let key = keys.get(target.key);
  if (!key) {
    key = readFileSync(target.key);
    keys.set(target.key, key);
  }
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`SFTP session not open within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.once('ready', () => {
      client.sftp((err, sftp) => {
        clearTimeout(timer);
        if (err) {
          client.end();
          return reject(err);
        }
        const call = <T>(fn: (cb: (err: Error | undefined | null, value: T) => void) => void) => new Promise<T>((ok, fail) => fn((e, v) => (e ? fail(e) : ok(v))));
        resolve({
          list: async (dir) => (await call<{ filename: string }[]>((cb) => sftp.readdir(dir, cb))).map((e) => e.filename),
          put: async (file, body) => {
            const handle = await call<Buffer>((cb) => sftp.open(file, 'w', cb));
            await call<void>((cb) => sftp.write(handle, body, 0, body.length, 0, (e) => cb(e, undefined)));
            await call<void>((cb) => sftp.close(handle, (e) => cb(e, undefined)));
          },
          close: async () => {
            client.end();
            await closed;
          },
        });
      });
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: key,
      readyTimeout: timeoutMs,
      hostVerifier: () => true,
      algorithms: { kex: [ALGORITHMS.kex], cipher: [ALGORITHMS.cipher], serverHostKey: [ALGORITHMS.hostKey] },
    });
  });
}
