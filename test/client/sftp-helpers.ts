/**
 * Helpers of the SFTP client tests: a temporary HOME with a known_hosts
 * file, and OpenSSH's sshd (internal-sftp, key logins) started as a
 * non-daemon on a loopback port, stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sshKeygen, type KeyPair } from '../helpers/sftp.js';

/** The `type base64` part of a public key line. */
export function keyPart(pub: string): string {
  return pub.split(/\s+/).slice(0, 2).join(' ');
}

/** A known_hosts line for 127.0.0.1:port, plain or hashed (`|1|salt|hash`). */
export function knownHostsLine(port: number, pub: string, hashed = false): string {
  const name = port === 22 ? '127.0.0.1' : `[127.0.0.1]:${port}`;
  if (!hashed) return `${name} ${keyPart(pub)}`;
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash} ${keyPart(pub)}`;
}

/** Makes `home/.ssh/known_hosts` with `lines` (and the directory), returning its path. */
export async function writeKnownHosts(home: string, lines: string[]): Promise<string> {
  const dir = path.join(home, '.ssh');
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'known_hosts');
  await fs.promises.writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** A free loopback TCP port (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running sshd. */
export interface Sshd {
  port: number;
  /** The listening sshd's pid (each connection is served by its children). */
  pid: number;
  hostKey: KeyPair;
  /** The key root logs in with. */
  clientKey: KeyPair;
  stop(): Promise<void>;
}

/** Resolves once `child` printed `re` on stderr; rejects on exit or after `timeoutMs`. */
function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (re.test(text)) done();
    };
    const onExit = (code: number | null): void => done(new Error(`sshd exited (${code}) before it was ready: ${text}`));
    const timer = setTimeout(() => done(new Error(`sshd not ready within ${timeoutMs} ms: ${text}`)), timeoutMs);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Starts `/usr/sbin/sshd -D -e` with its own host key, internal-sftp and key-only root logins. */
export async function startSshd(dir: string): Promise<Sshd> {
  await fs.promises.mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
  const [hostKey, clientKey] = await Promise.all([sshKeygen(dir, 'sshd_host'), sshKeygen(dir, 'sshd_client')]);
  const authorized = path.join(dir, 'authorized_keys');
  await fs.promises.writeFile(authorized, `${clientKey.pub}\n`);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    await fs.promises.writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey.key}`,
        'PidFile none',
        'UsePAM no',
        'StrictModes no',
        `AuthorizedKeysFile ${authorized}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        'MaxStartups 50',
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000); // hard limit on the whole file
    try {
      await waitForLine(child, /Server listening on 127\.0\.0\.1 port/, 10_000);
    } catch (err) {
      clearTimeout(killer);
      child.kill('SIGKILL');
      if (attempt < 2) continue; // the port was taken meanwhile
      throw err;
    }
    child.stderr?.resume();
    const stop = (): Promise<void> =>
      new Promise((resolve) => {
        clearTimeout(killer);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    return { port, pid: child.pid ?? 0, hostKey, clientKey, stop };
  }
}

/** The pids of every process below `pid` (children, grandchildren...), read from /proc. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const name of await fs.promises.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.promises.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}
