/** Opening an SFTP client: SSH connection, host key check, login, the sftp subsystem. */
import ssh2 from 'ssh2';
import type { Algorithms, ConnectConfig, SFTPWrapper } from 'ssh2';
import { FtpAbortError, FtpClientError, FtpTimeoutError } from '../errors.js';
import { authHandler, defaultUser, loadKeys } from './auth.js';
import { SftpClient } from './client.js';
import { SftpAuthError, SftpHostKeyError } from './errors.js';
import { call } from './io.js';
import { Watchdog } from './watchdog.js';
import { blobKeyType, checkHostKey, defaultKnownHostsFile, hostKeyAlgorithms, keyFingerprint, knownHostName, linesFor, type KnownHostLine } from './known-hosts.js';
import type { SftpConnectOptions } from './options.js';

/** Host key algorithms ssh2 can verify. */
const SUPPORTED = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);

/** Where the host key check looks and what it found. */
interface HostCheck {
  host: string;
  port: number;
  name: string;
  file: string;
  lines: KnownHostLine[];
}

/** The refusal for a key known_hosts does not vouch for, or undefined when it does. */
function judge(check: HostCheck, blob: Buffer): SftpHostKeyError | undefined {
  const verdict = checkHostKey(check.lines, blob);
  const type = blobKeyType(blob);
  const fp = keyFingerprint(blob);
  const { name, file, host, port } = check;
  switch (verdict.status) {
    case 'known':
      return undefined;
    case 'unknown': {
      const scan = `ssh-keyscan${port === 22 ? '' : ` -p ${port}`} ${host} >> ${file}`;
      return new SftpHostKeyError(
        'unknown',
        fp,
        `the host key of ${name} (${type} ${fp}) is not in ${file}; if that fingerprint is right, accept it with: ${scan} (or pass -k/--insecure to skip the check)`,
      );
    }
    case 'changed':
      return new SftpHostKeyError(
        'changed',
        fp,
        `HOST KEY CHANGED for ${name}: the server offers ${type} ${fp}, which does not match ${file}:${verdict.line}; this may be a man-in-the-middle attack, refusing to connect (if the change is expected: ssh-keygen -R '${name}' -f ${file}, then add the new key)`,
      );
    case 'revoked':
      return new SftpHostKeyError('revoked', fp, `the host key of ${name} (${type} ${fp}) is marked @revoked in ${file}:${verdict.line}; refusing to connect`);
  }
}

/** Prefers the key types known_hosts has for the host, so that the check compares like with like. */
function algorithmsFor(lines: KnownHostLine[]): Algorithms | undefined {
  const names = [...new Set(lines.filter((l) => l.marker === undefined).flatMap((l) => hostKeyAlgorithms(l.keyType)))].filter((n) => SUPPORTED.has(n));
  return names.length > 0 ? ({ serverHostKey: names } as Algorithms) : undefined;
}

function connectionError(err: Error & { level?: string }, where: string, timeoutMs: number): Error {
  if (err instanceof FtpClientError) return err;
  if (err.level === 'client-timeout') return new FtpTimeoutError(`no SSH session with ${where} within ${timeoutMs / 1000} s`);
  if (err.level === 'client-authentication') return new SftpAuthError(`authentication failed for ${where} (the server refused every key and password offered)`);
  return new FtpClientError(`cannot connect to ${where}: ${err.message}`);
}

/**
 * Connects to an SFTP server and logs in: the host key is checked against
 * known_hosts (unless `insecure`), keys are offered, then the password.
 * Resolves with an {@link SftpClient} in the login directory.
 */
export async function connectSftp(options: SftpConnectOptions): Promise<SftpClient> {
  const port = options.port ?? 22;
  const user = defaultUser(options);
  const timeout = options.timeout ?? 30_000;
  const where = `${user}@${options.host}:${port}`;
  const log = (text: string): void => options.log?.({ direction: 'info', text });
  options.signal?.throwIfAborted();
  const keys = loadKeys(options);
  // A password asked for (a prompt) is asked once: siblings opened by mirroring reuse the answer.
  const ask = options.password;
  let answer: Promise<string> | undefined;
  if (typeof ask === 'function') options = { ...options, password: () => (answer ??= ask()) };
  const file = options.knownHostsFile ?? defaultKnownHostsFile();
  const name = knownHostName(options.host, port);
  const check: HostCheck = { host: options.host, port, name, file, lines: options.insecure ? [] : linesFor(file, name) };
  let failure: Error | undefined;
  const ssh = new ssh2.Client();
  const config: ConnectConfig = {
    host: options.host,
    port,
    username: user,
    readyTimeout: timeout,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    algorithms: algorithmsFor(check.lines),
    hostVerifier: (blob: Buffer): boolean => {
      if (options.insecure) return true;
      failure = judge(check, blob);
      if (!failure) log(`host key ${keyFingerprint(blob)} matches ${file}`);
      return failure === undefined;
    },
    authHandler: authHandler(user, keys, options, (err) => (failure = err)),
  };
  log(`connecting to ${options.host}:${port} as ${user}, offering ${keys.length} key(s)${keys.length ? `: ${keys.map((k) => k.source).join(', ')}` : ''}`);
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    const onAbort = (): void => {
      ssh.destroy();
      reject(new FtpAbortError('operation aborted'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => options.signal?.removeEventListener('abort', onAbort);
    ssh.on('error', (err: Error & { level?: string }) => {
      settle();
      ssh.destroy();
      reject(failure ?? connectionError(err, where, timeout));
    });
    ssh.once('ready', () => {
      log(`logged in as ${user}`);
      ssh.sftp((err, s) => {
        settle();
        if (err) reject(new FtpClientError(`${where}: the sftp subsystem was refused: ${err.message}`));
        else resolve(s);
      });
    });
    ssh.once('close', () => reject(failure ?? new FtpClientError(`${where} closed the connection during login`)));
    ssh.connect(config);
  }).catch((err: unknown) => {
    ssh.destroy();
    throw err;
  });
  try {
    const home = await new Watchdog(timeout, () => ssh.destroy()).track(call<string>('realpath .', (cb) => sftp.realpath('.', cb)));
    return new SftpClient(ssh, sftp, { ...options, port }, home);
  } catch (err) {
    ssh.destroy();
    throw err;
  }
}
