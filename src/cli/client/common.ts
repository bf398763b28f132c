/**
 * What the client sub-commands share: their common options, opening a
 * connection from a URL with credentials from the URL, ~/.netrc or a prompt,
 * the verbose dialogue on stderr, and turning any failure into one line.
 */
import { CommanderError, type Command } from 'commander';
import {
  connect,
  connectSftp,
  FtpReplyError,
  isSftpUrl,
  parseFtpUrl,
  parseSftpUrl,
  type LogEntry,
  type ParsedFtpUrl,
  type ParsedSftpUrl,
  type RemoteClient,
} from '../../client/index.js';
import { lookupNetrc } from './netrc.js';
import { ask } from './prompt.js';

/** Options every client sub-command accepts. */
export interface CommonOptions {
  tls?: boolean;
  insecure?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  active?: boolean;
  timeout?: string;
  /** Private key files for sftp:// (`-i`, or `--identity` in the shell; repeatable). */
  identity?: string[];
}

/** A parsed URL argument: FTP/FTPS or SFTP. */
export type ParsedUrl = ParsedFtpUrl | ParsedSftpUrl;

/** A usage mistake: reported with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Adds the options shared by every client sub-command. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--tls', 'demand explicit FTPS (AUTH TLS, PROT P); never fall back to clear text')
    .option('-k, --insecure', 'accept a TLS certificate that cannot be verified, or (sftp://) a host key not in known_hosts')
    .option('--active', 'use active mode (EPRT/PORT) instead of passive')
    .option('--timeout <seconds>', 'seconds to wait for the server', '30')
    .option('--quiet', 'print nothing but errors')
    .option('--verbose', 'show the protocol dialogue (passwords masked) on stderr');
}

/**
 * Adds `-i FILE` (an SSH private key for sftp:// URLs, repeatable); the
 * shell, whose `-i` is the classic client's no-prompt flag, takes only the
 * long `--identity`.
 */
export function addIdentityOption(cmd: Command, short = true): Command {
  return cmd.option(
    `${short ? '-i, ' : ''}--identity <file>`,
    'SSH private key for sftp:// URLs (repeatable; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)',
    (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
  );
}

/** Writes the dialogue to stderr: `--> ` for commands, `<-- ` for replies. */
export function verboseLog(stream: NodeJS.WritableStream = process.stderr): (e: LogEntry) => void {
  return (e) => {
    if (e.direction === 'info') stream.write(`* ${e.text}\n`);
    else stream.write(`${e.direction === 'send' ? '-->' : '<--'} ${e.text}\n`);
  };
}

/** Resolves user and password: URL, then ~/.netrc, then a hidden prompt on a terminal, else anonymous. */
export async function credentials(url: ParsedFtpUrl): Promise<{ user: string | undefined; password: string | undefined }> {
  if (url.user !== undefined && url.password !== undefined) return { user: url.user, password: url.password };
  const entry = lookupNetrc(url.host, url.user);
  if (url.user !== undefined) {
    if (entry?.password !== undefined) return { user: url.user, password: entry.password };
    if (url.user === 'anonymous' || url.user === 'ftp') return { user: url.user, password: undefined };
    if (!process.stdin.isTTY) throw new UsageError(`no password for ${url.user}@${url.host}: put it in the URL or in ~/.netrc`);
    return { user: url.user, password: await ask(`Password for ${url.user}@${url.host}: `, { hidden: true }) };
  }
  if (entry?.login !== undefined) return { user: entry.login, password: entry.password };
  return { user: undefined, password: undefined };
}

/** Parses a URL argument (ftp://, ftps:// or sftp://), turning failures into usage errors. */
export function parseUrlArg(text: string): ParsedUrl {
  try {
    return isSftpUrl(text) ? parseSftpUrl(text) : parseFtpUrl(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The timeout option in milliseconds. */
function timeoutMs(opts: CommonOptions): number {
  const timeout = Number(opts.timeout ?? '30');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`invalid --timeout: ${opts.timeout}`);
  return timeout * 1000;
}

/**
 * SFTP credentials: user from the URL, else ~/.netrc, else the local user;
 * password from the URL, else ~/.netrc, else a hidden prompt on a terminal,
 * asked only if the server refuses the keys and still takes passwords.
 */
export function sftpCredentials(url: ParsedSftpUrl): { user: string | undefined; password: string | (() => Promise<string>) | undefined } {
  if (url.password !== undefined) return { user: url.user, password: url.password };
  const entry = lookupNetrc(url.host, url.user);
  const user = url.user ?? entry?.login;
  if (entry?.password !== undefined && (url.user === undefined || entry.login === undefined || entry.login === url.user)) return { user, password: entry.password };
  if (!process.stdin.isTTY) return { user, password: undefined };
  return { user, password: () => ask(`Password for ${user ?? 'you'}@${url.host}: `, { hidden: true }) };
}

/**
 * Connects to an SFTP server and logs in as the options and URL say;
 * `askPassword` replaces the terminal prompt (the shell reads it itself).
 */
async function openSftp(url: ParsedSftpUrl, opts: CommonOptions, signal?: AbortSignal, askPassword?: () => Promise<string>): Promise<RemoteClient> {
  if (opts.tls) throw new UsageError('--tls is for ftp:// URLs; sftp:// is always encrypted');
  const creds = sftpCredentials(url);
  const user = creds.user;
  const password = typeof creds.password === 'function' && askPassword ? askPassword : creds.password;
  const log = opts.verbose ? verboseLog() : undefined;
  return connectSftp({
    protocol: 'sftp',
    host: url.host,
    port: url.port,
    user,
    password,
    identityFiles: opts.identity,
    insecure: opts.insecure ?? false,
    timeout: timeoutMs(opts),
    signal,
    log,
    onWarning: opts.quiet ? undefined : (m) => process.stderr.write(`wharf: warning: ${m}\n`),
  });
}

/** Connects and logs in as the options and URL say (FTP, FTPS or SFTP); `askPassword` as for SFTP's prompt. */
export async function openClient(url: ParsedUrl, opts: CommonOptions, signal?: AbortSignal, askPassword?: () => Promise<string>): Promise<RemoteClient> {
  if ('protocol' in url) return openSftp(url, opts, signal, askPassword);
  if (opts.identity?.length) throw new UsageError('-i/--identity is for sftp:// URLs');
  if (opts.tls && url.secure === 'implicit') throw new UsageError('--tls is for ftp:// URLs; ftps:// already means implicit TLS');
  const { user, password } = await credentials(url);
  const timeout = timeoutMs(opts);
  return connect({
    host: url.host,
    port: url.port,
    user,
    password,
    secure: url.secure ?? (opts.tls ? 'explicit' : false),
    insecure: opts.insecure ?? false,
    passive: !opts.active,
    timeout,
    signal,
    log: opts.verbose ? verboseLog() : undefined,
  });
}

/** One line for an error: no stack, the server's reply when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof FtpReplyError) return `${err.command}: ${err.code} ${err.reply.split('\n').join(' ')}`;
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}

/**
 * Runs a sub-command action: a failure prints `wharf: ...` on stderr, sets
 * the exit code (2 for usage errors, 130 when interrupted, 1 otherwise) and
 * is re-thrown as a CommanderError carrying that code, the way commander
 * programs with `exitOverride()` report exits. Ctrl-C aborts the action.
 */
export async function runAction(action: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let code = 0;
  try {
    await action(controller.signal);
  } catch (err) {
    process.stderr.write(`wharf: ${controller.signal.aborted ? 'interrupted' : describeError(err)}\n`);
    code = err instanceof UsageError ? 2 : controller.signal.aborted ? 130 : 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (code !== 0) {
    process.exitCode = code;
    throw new CommanderError(code, 'wharf.client.failed', '(reported)');
  }
}

/** True when a name contains glob characters. */
export function hasGlob(name: string): boolean {
  return /[*?[]/.test(name);
}

/** Splits a remote path into its directory and last segment. */
export function splitRemote(p: string): { dir: string; base: string } {
  const i = p.lastIndexOf('/');
  return i < 0 ? { dir: '', base: p } : { dir: p.slice(0, i) || '/', base: p.slice(i + 1) };
}
