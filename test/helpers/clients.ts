/**
 * Helpers for the interop tests that drive real FTP clients (curl, lftp,
 * wget, inetutils ftp, Python ftplib) against a live Wharf server: spawning
 * a client with a hard timeout, temp directories, sha256, and holding
 * control connections open to fill the connection caps.
 *
 * A missing client is a failure, never a skip: `run` rejects on ENOENT.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RawSession } from './raw.js';

export { sha256, tempDir, makeTree, readTree, bytes } from './peers.js';

/** What a finished client process left behind. */
export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** True when the hard timeout killed it. */
  timedOut: boolean;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Hard timeout in ms (default 30 s); the process is SIGKILLed after it. */
  timeoutMs?: number;
}

/**
 * Runs a program to completion and collects its output. Rejects only when
 * the program cannot be started (e.g. not installed); a non-zero exit or a
 * timeout resolves with `code`/`timedOut` so tests can assert on them.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? { ...process.env, LC_ALL: 'C.UTF-8', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(new Error(`cannot run ${cmd}: ${e.message}`));
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A one-line description of a result, for assertion messages. */
export function describe(r: RunResult): string {
  const so = r.stdout.toString('utf8');
  return `exit=${r.code} signal=${r.signal} timedOut=${r.timedOut}\n--- stdout ---\n${so.slice(-3000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`;
}

/** Runs curl with `-sS` and a connect/overall timeout added. */
export function curl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('curl', ['-sS', '--connect-timeout', '10', '--max-time', '25', ...args], opts);
}

/**
 * Reply codes a server sent, as seen in curl's `-v` output (`< 226 ...`).
 * Only the final line of each reply is returned.
 */
export function curlReplies(stderr: string): { code: number; text: string }[] {
  const out: { code: number; text: string }[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    const m = /^< (\d{3}) (.*)$/.exec(line);
    if (m) out.push({ code: Number(m[1]), text: m[2] ?? '' });
  }
  return out;
}

/** Commands curl sent, as seen in its `-v` output (`> STOR x`). */
export function curlCommands(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    const m = /^> (.*)$/.exec(line);
    if (m) out.push(m[1] ?? '');
  }
  return out;
}

/** Runs an lftp script (`lftp -c`), with retries and timeouts kept short. */
export function lftp(port: number, user: string | null, script: string, opts: RunOptions & { passive?: boolean } = {}): Promise<RunResult> {
  const login = user === null ? '' : ` -u ${user}`;
  const prelude = [
    'set net:max-retries 1',
    'set net:reconnect-interval-base 1',
    'set net:timeout 5',
    'set cmd:fail-exit yes',
    'set xfer:clobber yes',
    `set ftp:passive-mode ${opts.passive === false ? 'off' : 'on'}`,
    'set ftp:port-range 0',
    'set ftp:ssl-allow no',
    `open${login} ftp://127.0.0.1:${port}`,
  ].join('; ');
  return run('lftp', ['-c', `${prelude}; ${script}`], { timeoutMs: 30_000, ...opts });
}

/** The inetutils ftp binary (`inetutils-ftp` when installed under that name, else `ftp`). */
export function inetutilsFtp(): string {
  for (const p of ['/usr/bin/inetutils-ftp', '/usr/local/bin/inetutils-ftp']) {
    if (fs.existsSync(p)) return p;
  }
  return 'ftp';
}

/** Runs a Python (stdlib only) script with `python3`, passing `args`. */
export async function python(script: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('python3', ['-c', script, ...args], opts);
}

/**
 * Opens `n` control connections to `port` (logging each in when `user` is
 * given) and keeps them open; `close` ends them all.
 */
export async function holdSessions(port: number, n: number, user?: { name: string; pass: string }): Promise<{ sessions: RawSession[]; close(): void }> {
  const sessions: RawSession[] = [];
  const close = () => {
    for (const s of sessions) s.close();
  };
  try {
    for (let i = 0; i < n; i++) {
      const s = await RawSession.open(port);
      sessions.push(s);
      if (user) await s.login(user.name, user.pass);
      else {
        const g = await s.read();
        if (g?.code !== 220) throw new Error(`greeting: ${g?.raw}`);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { sessions, close };
}

/** Lists a local directory tree as sorted relative paths (directories end in `/`). */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        await walk(path.join(dir, e.name), r);
      } else out.push(r);
    }
  }
  await walk(root, '');
  return out.sort();
}
