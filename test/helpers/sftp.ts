/**
 * Helpers for the SFTP interop tests: a Wharf server with `[sftp]` on
 * port 0, SSH keys made by ssh-keygen (or `wharf gen-hostkey`'s code), and
 * the real clients driven with hard timeouts: OpenSSH `sftp` (batch mode,
 * through sshpass for passwords), paramiko (Debian's python3-paramiko, run
 * with /usr/bin/python3), lftp's `sftp://` and curl's `sftp://`.
 *
 * A missing client is a failure, never a skip (`run` rejects on ENOENT).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { curl, run, tempDir, type RunOptions, type RunResult } from './clients.js';
import { secretHash, startServer, type StartOptions, type TestServer } from './server.js';

/** Debian's Python, which has python3-paramiko (not a pyenv shim's). */
export const PYTHON = '/usr/bin/python3';

/** The SSH client options every OpenSSH invocation gets: no config files, no host key prompts, bounded connect. */
export const SSH_OPTIONS = ['-F', '/dev/null', '-oStrictHostKeyChecking=no', '-oUserKnownHostsFile=/dev/null', '-oLogLevel=ERROR', '-oConnectTimeout=10'];

/** An ed25519 key pair on disk. */
export interface KeyPair {
  /** Path of the private key. */
  key: string;
  /** The public key line (`ssh-ed25519 AAAA... comment`). */
  pub: string;
}

/** Generates a key pair with `ssh-keygen` (no passphrase) as `dir/name` and `dir/name.pub`. */
export async function sshKeygen(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): Promise<KeyPair> {
  const key = path.join(dir, name);
  const size = type === 'rsa' ? ['-b', '2048'] : [];
  const r = await run('ssh-keygen', ['-q', '-t', type, ...size, '-N', '', '-C', `${name}@wharf-test`, '-f', key], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return { key, pub: (await fs.readFile(`${key}.pub`, 'utf8')).trim() };
}

/** Writes an ed25519 host key with the real CLI, `wharf gen-hostkey --out dir/name`. */
export async function wharfHostKey(dir: string, name = 'wharf_host_key'): Promise<KeyPair> {
  const key = path.join(dir, name);
  const bin = fileURLToPath(new URL('../../../bin/wharf.js', import.meta.url));
  const r = await run(process.execPath, [bin, 'gen-hostkey', '--out', key], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`wharf gen-hostkey failed (exit ${r.code}): ${r.stderr}`);
  return { key, pub: (await fs.readFile(`${key}.pub`, 'utf8')).trim() };
}

/** The SHA-256 fingerprint of a public key line, base64 without padding (curl's --hostpubsha256, ssh-keygen -l). */
export function fingerprint(pub: string): string {
  const blob = Buffer.from(pub.split(/\s+/)[1] ?? '', 'base64');
  return createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The keys one test file uses: a host key, a client key alice accepts, and one nobody accepts. */
export interface TestKeys {
  dir: string;
  host: KeyPair;
  client: KeyPair;
  stranger: KeyPair;
  cleanup(): Promise<void>;
}

/** Makes a file's keys with ssh-keygen (call from `before`, clean up in `after`). */
export async function makeKeys(): Promise<TestKeys> {
  const { dir, cleanup } = await tempDir('wharf-sftp-keys-');
  const [host, client, stranger] = await Promise.all([sshKeygen(dir, 'host_ed25519'), sshKeygen(dir, 'client_ed25519'), sshKeygen(dir, 'stranger_ed25519')]);
  return { dir, host, client, stranger, cleanup };
}

/** A running server with SFTP, and a scratch directory for the client's side. */
export interface SftpTestServer {
  srv: TestServer;
  /** The SFTP port. */
  port: number;
  /** A local scratch directory (removed after the test). */
  tmp: string;
}

/**
 * Starts a test server with `[sftp]` (port 0, the given host key, anonymous
 * on unless `overrides.sftp` says otherwise); closes it after the test.
 */
export async function startSftp(t: TestContext, hostKey: string, overrides: Record<string, unknown> = {}, helper: StartOptions = {}): Promise<SftpTestServer> {
  const sftp = { port: 0, host_keys: [hostKey], anonymous: true, ...(overrides.sftp as Record<string, unknown> | undefined) };
  const srv = await startServer({ ...overrides, sftp }, {}, helper);
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-sftp-local-');
  t.after(cleanup);
  const port = srv.server.addresses.sftp?.port;
  if (port === undefined) throw new Error('the server did not start SFTP');
  return { srv, port, tmp: dir };
}

/** The `users` of the test server, with alice accepting `authorizedKeys` (arrays replace in overrides, so both users are listed). */
export async function usersWithKeys(authorizedKeys: string[]): Promise<Record<string, unknown>[]> {
  const hash = await secretHash();
  return [
    { name: 'alice', password: hash, home: 'alice', permissions: ['*'], authorized_keys: authorizedKeys },
    { name: 'reader', password: hash, home: 'reader', permissions: ['list', 'read'] },
  ];
}

/** How a client logs in: a password (through sshpass) or a private key. */
export type Login = { user: string; password: string } | { user: string; key: string };

/**
 * Runs OpenSSH `sftp -b -` with `commands` as the batch (one per line; a
 * leading `-` lets a command fail without ending the batch). Passwords go
 * through sshpass with one prompt, so one run is one login attempt.
 */
export function sftpBatch(port: number, login: Login, commands: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const common = [...SSH_OPTIONS, '-P', String(port), '-b', '-'];
  const input = commands.join('\n') + '\n';
  const o = { timeoutMs: 60_000, ...opts, input };
  if ('key' in login) {
    const keyOnly = ['-oBatchMode=yes', '-oPasswordAuthentication=no', '-oKbdInteractiveAuthentication=no', '-oIdentitiesOnly=yes', '-i', login.key];
    return run('sftp', [...keyOnly, ...common, `${login.user}@127.0.0.1`], o);
  }
  const pw = ['-oBatchMode=no', '-oPubkeyAuthentication=no', '-oKbdInteractiveAuthentication=no', '-oNumberOfPasswordPrompts=1'];
  return run('sshpass', ['-p', login.password, 'sftp', ...pw, ...common, `${login.user}@127.0.0.1`], o);
}

/** Runs OpenSSH's `ssh` with `args` after the destination (a command, or options such as `-W host:port` before it via `pre`). */
export function sshCommand(port: number, login: Login, pre: readonly string[], args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const common = [...SSH_OPTIONS, '-p', String(port), ...pre, `${login.user}@127.0.0.1`, ...args];
  const o = { timeoutMs: 30_000, ...opts };
  if ('key' in login) return run('ssh', ['-oBatchMode=yes', '-oIdentitiesOnly=yes', '-oPasswordAuthentication=no', '-i', login.key, ...common], o);
  return run(
    'sshpass',
    ['-p', login.password, 'ssh', '-oBatchMode=no', '-oPubkeyAuthentication=no', '-oKbdInteractiveAuthentication=no', '-oNumberOfPasswordPrompts=1', ...common],
    o,
  );
}

/** Runs an lftp script over `sftp://` (lftp drives OpenSSH's ssh and answers its prompts). */
export function lftpSftp(port: number, user: string, password: string, script: string, opts: RunOptions = {}): Promise<RunResult> {
  const ssh = ['ssh', '-a', '-x', ...SSH_OPTIONS, '-oPubkeyAuthentication=no'].join(' ');
  const prelude = [
    'set cmd:fail-exit yes',
    'set net:max-retries 1',
    'set net:reconnect-interval-base 1',
    'set net:timeout 10',
    'set xfer:clobber yes',
    'set sftp:auto-confirm yes',
    `set sftp:connect-program "${ssh}"`,
    `open -u ${user},${password} sftp://127.0.0.1:${port}`,
  ].join('; ');
  return run('lftp', ['-c', `${prelude}; ${script}`], { timeoutMs: 60_000, ...opts });
}

/** Runs curl on `sftp://127.0.0.1:PORT/<remote>` as `user:password`, host key unchecked (-k). */
export function curlSftp(port: number, user: string, password: string, remote: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return curl(['-k', '-u', `${user}:${password}`, ...args, `sftp://127.0.0.1:${port}/${remote.replace(/^\//, '')}`], opts);
}

/**
 * Python prelude for paramiko scripts: `connect(port, user, password)`
 * returns (transport, sftp); `out(**kw)` prints one JSON line.
 */
const PARAMIKO_PRELUDE = `
import sys, os, json, errno, random, paramiko
def connect(port, user='alice', password='secret'):
    t = paramiko.Transport(('127.0.0.1', int(port)))
    t.banner_timeout = 10
    t.connect(username=user, password=password)
    return t, paramiko.SFTPClient.from_transport(t)
def out(**kw):
    print(json.dumps(kw), flush=True)
def attempt(fn):
    try:
        return {'ok': True, 'value': fn()}
    except Exception as e:
        return {'ok': False, 'type': type(e).__name__, 'errno': getattr(e, 'errno', None), 'text': str(e)}
`;

/** Runs a paramiko script (after the prelude) with `args` in sys.argv[1:]. */
export function paramiko(script: string, args: readonly (string | number)[], opts: RunOptions = {}): Promise<RunResult> {
  return run(PYTHON, ['-c', PARAMIKO_PRELUDE + script, ...args.map(String)], { timeoutMs: 60_000, ...opts });
}

/** The JSON lines a paramiko script printed with `out(...)`. */
export function jsonLines(r: RunResult): Record<string, unknown>[] {
  return r.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A client process kept running while the test acts (e.g. holding a session, or killed mid-upload). */
export interface HeldProcess {
  /** Resolves with the first stdout line matching `re`; rejects on timeout or exit. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILLs the process and resolves once it is gone. */
  kill(): Promise<void>;
  /** Closes its stdin (scripts end on EOF) and resolves once it exited; SIGKILL after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
}

/** Starts a paramiko script that keeps running; it is SIGKILLed after `hardTimeoutMs` whatever happens. */
export function holdParamiko(script: string, args: readonly (string | number)[], hardTimeoutMs = 60_000): HeldProcess {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, ['-c', PARAMIKO_PRELUDE + script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const hard = setTimeout(() => child.kill('SIGKILL'), hardTimeoutMs);
  void exited.then(() => clearTimeout(hard));
  child.on('error', () => undefined);
  child.stdin.on('error', () => undefined);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const lineWaiters = new Set<() => void>();
  child.stdout.on('data', (d: string) => {
    stdout += d;
    for (const w of lineWaiters) w();
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    get stderr() {
      return stderr;
    },
    waitFor(re, timeoutMs = 20_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const line = stdout.split('\n').find((l) => re.test(l));
          if (line !== undefined) finish(() => resolve(line));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr: ${stderr}`))), timeoutMs);
        const onExit = () => finish(() => reject(new Error(`the process exited before a line matching ${re}; stdout: ${stdout}; stderr: ${stderr}`)));
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          lineWaiters.delete(check);
          child.off('close', onExit);
          settle();
        };
        lineWaiters.add(check);
        child.once('close', onExit);
        check();
      });
    },
    async kill() {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
    async close(timeoutMs = 15_000) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits (bounded) until `file` exists and `ok(content)` holds; returns the content. */
export async function waitForFile(file: string, ok: (content: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = await fs.readFile(file, 'utf8').catch(() => '');
    if (ok(content)) return content;
    if (Date.now() > deadline) throw new Error(`${file} did not reach the expected content within ${timeoutMs} ms; it holds:\n${content}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
