/**
 * The interactive `ftp>` shell's state: the connection, toggles (see
 * toggles.ts), the transfer type, the local directory, and how server replies
 * are echoed the way the classic client shows them.
 */
import os from 'node:os';
import path from 'node:path';
import { connect, FtpClient, FtpReplyError, isSftpUrl, parseFtpUrl, type ConnectOptions, type LogEntry, type ParsedFtpUrl, type RemoteClient } from '../../../client/index.js';
import { describeError, openClient, parseUrlArg, type CommonOptions } from '../common.js';
import { lookupNetrc } from '../netrc.js';
import type { LineReader } from './lines.js';
import { initialToggles, type ShellFlags } from './toggles.js';

/** Options of `wharf shell`. */
export interface ShellCliOptions extends CommonOptions, ShellFlags {}

/** Commands whose replies are internal details, hidden unless the user asked for them. */
const INTERNAL = new Set(['FEAT', 'OPTS', 'SIZE', 'MDTM', 'PWD', 'TYPE', 'SYST', 'PBSZ', 'PROT', 'AUTH', 'MFMT']);

/** An error for the user, printed as is. */
export class ShellError extends Error {
  override name = 'ShellError';
}

/** Where `open` connects: the host and port, and the parsed URL when it was given one. */
interface OpenTarget {
  host: string;
  port: number;
  url: ParsedFtpUrl | undefined;
}

/** Reads the arguments of `open`: a URL (which gives the port), or a host and a port, 21 by default. */
function openTarget(target: string, portArg: string | undefined): OpenTarget {
  const url = /^ftps?:\/\//i.test(target) ? parseFtpUrl(target) : undefined;
  const host = url?.host ?? target;
  const port = url?.port ?? (portArg ? Number(portArg) : 21);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ShellError(`${portArg}: bad port number.`);
  return { host, port, url };
}

/** Where the shell writes. */
export interface ShellIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  interactive: boolean;
}

/** The shell's state and helpers used by the command table. */
export class Shell {
  /** The connection: FTP(S), or SFTP after `open sftp://...`. */
  client: RemoteClient | undefined;
  host = '';
  passive = true;
  mode: 'binary' | 'ascii' = 'binary';
  prompting: boolean;
  glob: boolean;
  verbose: boolean;
  bell: boolean;
  runique: boolean;
  /** Debugging level; 0 is off. */
  debug: number;
  /** Bytes per hash mark; 0 is off. */
  hash: number;
  localDir = process.cwd();
  done = false;
  /** Verbs whose replies are shown even though normally internal. */
  exposed = new Set<string>();
  /** True while completing names: nothing is echoed. */
  silent = false;
  /** The current command's cancellation. */
  controller = new AbortController();
  readonly reader: LineReader;
  /** While set, final transfer replies (226/250) are held back, to print after a listing. */
  held: string[] | undefined;
  private lastVerb = '';
  private multi: string | undefined;
  /** How the lines of the current reply are shown: all, only 5xx lines without their code, or none. */
  private showing: 'all' | 'errors' | 'none' = 'none';

  constructor(
    readonly io: ShellIo,
    readonly options: ShellCliOptions,
    reader: LineReader,
  ) {
    this.reader = reader;
    const toggles = initialToggles(options, io.interactive);
    this.prompting = toggles.prompting;
    this.glob = toggles.glob;
    this.verbose = toggles.verbose;
    this.bell = toggles.bell;
    this.runique = toggles.runique;
    this.debug = toggles.debug;
    this.hash = toggles.hash;
    this.passive = options.passive === true || !options.active;
  }

  /** Prints one line on the shell's output. */
  print(text: string): void {
    this.io.output.write(`${text}\n`);
  }

  /** Writes text as it is (no newline). */
  write(text: string): void {
    this.io.output.write(text);
  }

  /** Rings the bell after a transfer, when `bell` is on. */
  ring(): void {
    if (this.bell) this.write('\x07');
  }

  /** Resolves a local path against the shell's local directory. */
  local(p: string): string {
    return path.resolve(this.localDir, p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);
  }

  /** The connected client, or a ShellError. */
  need(): RemoteClient {
    if (!this.client || this.client.closed) {
      this.client = undefined;
      throw new ShellError('Not connected.');
    }
    return this.client;
  }

  /** The connected FTP client, or a ShellError naming the command that SFTP has no equivalent for. */
  needFtp(command: string): FtpClient {
    const client = this.need();
    if (!(client instanceof FtpClient)) throw new ShellError(`${command}: not available over SFTP.`);
    return client;
  }

  /** The FTP client when connected over FTP; undefined when over SFTP or not connected. */
  get ftp(): FtpClient | undefined {
    return this.client instanceof FtpClient && !this.client.closed ? this.client : undefined;
  }

  /** True when connected over SFTP. */
  get sftp(): boolean {
    return this.client !== undefined && !this.client.closed && !(this.client instanceof FtpClient);
  }

  /** The prompt: `sftp> ` while connected over SFTP, else the classic `ftp> `. */
  get prompt(): string {
    return this.sftp ? 'sftp> ' : 'ftp> ';
  }

  /** Receives the dialogue from the client and echoes it like the classic client. */
  readonly log = (e: LogEntry): void => {
    if (this.silent) return;
    if (e.direction === 'send') this.sent(e.text);
    else if (e.direction === 'recv') this.received(e.text);
  };

  /** A command went out: its verb decides whether the replies are shown; it is echoed only when debugging. */
  private sent(text: string): void {
    this.lastVerb = (text.split(' ')[0] ?? '').toUpperCase();
    if (this.debug) this.print(`---> ${text.replace(/^PASS .*/, 'PASS XXXX')}`);
  }

  /** A reply line came in: the first line of a reply decides for all its lines. */
  private received(text: string): void {
    if (!this.multi) this.showing = this.firstLine(text);
    else if (text.startsWith(`${this.multi} `) || text === this.multi) this.multi = undefined;
    if (this.showing === 'all') this.echo(text, text);
    else if (this.showing === 'errors' && text.startsWith('5')) this.echo(text, text.slice(4));
  }

  /**
   * The first line of a reply: notes whether a multi-line reply starts, and
   * tells how to show the reply. Replies to internal commands are hidden
   * (unless exposed or debugging); with verbose off, as in the classic
   * client, only lines of permanent errors (5xx) are shown, without the code.
   */
  private firstLine(text: string): 'all' | 'errors' | 'none' {
    if (text[3] === '-') this.multi = text.slice(0, 3);
    if (INTERNAL.has(this.lastVerb) && !this.exposed.has(this.lastVerb) && this.debug === 0) return 'none';
    return this.verbose ? 'all' : 'errors';
  }

  /** Prints a reply line, or holds it back while a transfer runs: from its 226/250 on (see holdingFinal). */
  private echo(line: string, shown: string): void {
    if (this.held && (this.held.length > 0 || /^(226|250)[ -]/.test(line))) this.held.push(shown);
    else this.print(shown);
  }

  /**
   * Runs a transfer so that what `emit` prints (a listing, the last hash
   * marks) comes before its final 226 reply, as the classic client shows it.
   */
  async holdingFinal<T>(fn: () => Promise<T>, emit: (value: T) => void): Promise<T> {
    const held: string[] = [];
    this.held = held;
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      this.held = undefined;
      for (const l of held) this.print(l);
      throw err;
    }
    this.held = undefined;
    try {
      emit(value);
    } finally {
      for (const l of held) this.print(l);
    }
    return value;
  }

  /** Runs `fn` with verbose on or off, as the classic client does for `pwd` (on) and mget's listing (off). */
  async withVerbose<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
    const was = this.verbose;
    this.verbose = on;
    try {
      return await fn();
    } finally {
      this.verbose = was;
    }
  }

  /** `open host [port]` or `open URL` (ftp://, ftps:// or sftp://): connects, then logs in unless told not to. */
  async open(target: string, portArg?: string): Promise<void> {
    if (this.client && !this.client.closed) throw new ShellError(`Already connected to ${this.host}, use close first.`);
    if (isSftpUrl(target)) return this.openSftp(target);
    const { host, port, url } = openTarget(target, portArg);
    const client = await this.connectQuietly(host, port, url?.secure);
    this.client = client;
    this.host = host;
    if (this.verbose) {
      this.print(`Connected to ${host}.`);
      for (const line of client.greeting?.lines ?? []) this.print(line);
    }
    await this.loginAtOpen(host, url);
    if (url?.path) await client.cd(url.path).catch(() => undefined);
  }

  /**
   * `open sftp://[user[:password]@]host[:port]/path`: SSH logs in as it
   * connects (keys from -i or ~/.ssh, then the password from the URL,
   * ~/.netrc or, on a terminal, the shell's own hidden prompt).
   */
  private async openSftp(target: string): Promise<void> {
    let url;
    try {
      url = parseUrlArg(target);
    } catch (err) {
      throw new ShellError(`sftp: ${describeError(err)}`);
    }
    if (!('protocol' in url)) throw new ShellError(`sftp: not an sftp:// URL: ${target}`);
    // On a terminal, a password the server asks for is read by the shell's own line reader.
    const ask = async (): Promise<string> => (await this.reader.line('Password:', true)) ?? '';
    let client: RemoteClient;
    try {
      client = await openClient(url, { ...this.options, quiet: true, verbose: this.debug > 0 }, undefined, ask);
    } catch (err) {
      throw new ShellError(`sftp: ${describeError(err)}`);
    }
    this.client = client;
    this.host = url.host;
    if (this.verbose) this.print(`Connected to ${url.host}.`);
    if (url.path && url.path !== '/') await client.cd(url.path).catch((err: unknown) => this.report(err));
  }

  /** Connects without logging in, echoing nothing meanwhile; explicit TLS with --tls unless the URL said ftps://. */
  private async connectQuietly(host: string, port: number, secure: 'implicit' | undefined): Promise<FtpClient> {
    const options: ConnectOptions = {
      host,
      port,
      secure: secure ?? (this.options.tls ? 'explicit' : false),
      insecure: this.options.insecure ?? false,
      passive: this.passive,
      timeout: Number(this.options.timeout ?? '30') * 1000,
      log: this.log,
      login: false,
    };
    this.silent = true;
    try {
      return await connect(options, {});
    } catch (err) {
      throw new ShellError(`ftp: ${describeError(err)}`);
    } finally {
      this.silent = false;
    }
  }

  /**
   * Logs in after `open`: as the URL's user; else, unless `-n`, with the
   * ~/.netrc entry for the host, or by asking on a terminal.
   */
  private async loginAtOpen(host: string, url: ParsedFtpUrl | undefined): Promise<void> {
    if (url?.user !== undefined) return this.login(url.user, url.password);
    if (this.options.autoLogin === false) return;
    const entry = lookupNetrc(host);
    if (entry?.login !== undefined) await this.login(entry.login, entry.password);
    else if (this.io.interactive) await this.login();
  }

  /** Logs in, prompting `Name (host:user):` and `Password:` for what is missing. */
  async login(user?: string, password?: string): Promise<void> {
    const client = this.needFtp('user');
    let name = user;
    if (name === undefined) {
      const local = os.userInfo().username;
      const answer = await this.reader.line(`Name (${this.host}:${local}): `);
      if (answer === null) throw new ShellError('Login failed.');
      name = answer.trim() || local;
    }
    const ask = async (): Promise<string> => {
      const p = await this.reader.line('Password:', true);
      return p ?? '';
    };
    try {
      await client.login(name, password ?? ask);
    } catch (err) {
      if (err instanceof FtpReplyError) throw new ShellError('Login failed.');
      throw err;
    }
    const syst = await client.send('SYST').catch(() => undefined);
    if (!this.verbose) return;
    if (syst && syst.code === 215) this.print(`Remote system type is ${syst.message.split(' ')[0] ?? 'UNKNOWN'}.`);
    if (this.mode === 'binary') this.print('Using binary mode to transfer files.');
  }

  /** Closes the connection politely. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c && !c.closed) await c.close();
  }

  /** Runs `fn` with some internal verbs' replies shown. */
  async exposing<T>(verbs: string[], fn: () => Promise<T>): Promise<T> {
    for (const v of verbs) this.exposed.add(v);
    try {
      return await fn();
    } finally {
      for (const v of verbs) this.exposed.delete(v);
    }
  }

  /**
   * Asks `mget NAME? ` when prompting is on, as the classic client does: on
   * a terminal or not (a script's next line is the answer). An answer that
   * starts with n or N is no, end of input is no, anything else is yes.
   */
  async confirm(command: string, name: string): Promise<boolean> {
    if (!this.prompting) return true;
    const question = `${command} ${name}? `;
    if (!this.reader.terminal) this.write(question);
    const answer = await this.reader.line(question);
    return answer !== null && !/^n/i.test(answer);
  }

  /** Reports an error from a command the way the classic client does. */
  report(err: unknown): void {
    if (err instanceof FtpReplyError) {
      // The reply was already echoed by the log; under `verbose off` errors are shown too.
      return;
    }
    if (err instanceof ShellError) this.print(err.message);
    else this.print(`${this.sftp ? 'sftp' : 'ftp'}: ${describeError(err)}`);
    if (this.client?.closed) {
      this.client = undefined;
      this.print('Connection closed.');
    }
  }
}
