/**
 * What the client sub-commands share: their common options, opening a
 * connection from a URL with credentials from the URL, ~/.netrc or a prompt,
 * the verbose dialogue on stderr, and turning any failure into one line.
 */
import { CommanderError, type Command } from 'commander';
import { connect, FtpReplyError, parseFtpUrl, type FtpClient, type LogEntry, type ParsedFtpUrl } from '../../client/index.js';
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
}

/** A usage mistake: reported with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Adds the options shared by every client sub-command. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--tls', 'demand explicit FTPS (AUTH TLS, PROT P); never fall back to clear text')
    .option('-k, --insecure', 'accept a TLS certificate that cannot be verified')
    .option('--active', 'use active mode (EPRT/PORT) instead of passive')
    .option('--timeout <seconds>', 'seconds to wait for the server', '30')
    .option('--quiet', 'print nothing but errors')
    .option('--verbose', 'show the protocol dialogue (passwords masked) on stderr');
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

/** Parses a URL argument, turning failures into usage errors. */
export function parseUrlArg(text: string): ParsedFtpUrl {
  try {
    return parseFtpUrl(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Connects and logs in as the options and URL say. */
export async function openClient(url: ParsedFtpUrl, opts: CommonOptions, signal?: AbortSignal): Promise<FtpClient> {
  if (opts.tls && url.secure === 'implicit') throw new UsageError('--tls is for ftp:// URLs; ftps:// already means implicit TLS');
  const { user, password } = await credentials(url);
  const timeout = Number(opts.timeout ?? '30');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`invalid --timeout: ${opts.timeout}`);
  return connect({
    host: url.host,
    port: url.port,
    user,
    password,
    secure: url.secure ?? (opts.tls ? 'explicit' : false),
    insecure: opts.insecure ?? false,
    passive: !opts.active,
    timeout: timeout * 1000,
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
