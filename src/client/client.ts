/**
 * The FTP client: one control connection and a task queue so that calls made
 * concurrently on one client run one after the other. Create it with
 * {@link connect}.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type tls from 'node:tls';
import type { ControlConnection } from './control.js';
import type { DataMemory, DataSettings } from './data.js';
import { FtpIntegrityError, FtpProtocolError, FtpReplyError, FtpTlsError } from './errors.js';
import { parseList, parseMlsd, splitLines, type FileInfo } from './listing/index.js';
import { redactCommand } from '../protocol/command.js';
import { parseTimeVal } from '../protocol/listing/facts.js';
import { parsePathReply } from '../protocol/reply.js';
import type { CallOptions, ConnectOptions, DownloadOptions, ListOptions, UploadOptions } from './options.js';
import { replyKind, type FtpReply } from './reply.js';
import { ProgressCounter, runTransfer, type TransferContext, type TransferProgress } from './transfer.js';
import { closed, crlfToLf, lfToCrlf } from './streams.js';

/** Events emitted by {@link FtpClient}. */
export interface FtpClientEvents {
  progress: [TransferProgress];
}

/**
 * A logged-in FTP session. All methods return promises and may be called
 * concurrently: they are queued and run in order on the one connection.
 */
export class FtpClient extends EventEmitter<FtpClientEvents> {
  /** Features announced by FEAT, upper-case name to parameters. */
  readonly features = new Map<string, string>();
  /** The greeting (220) reply. */
  greeting: FtpReply | undefined;
  /** True when transfers use passive mode. */
  passive: boolean;
  private readonly ctrl: ControlConnection;
  private readonly options: ConnectOptions;
  private readonly timeout: number;
  private readonly memory: DataMemory = { epsvRefused: false, eprtRefused: false };
  private dataTls: tls.ConnectionOptions | undefined;
  private currentType: 'A' | 'I' | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private tlsMode: 'explicit' | 'implicit' | undefined;
  private tlsOptions: tls.ConnectionOptions | undefined;
  private isLoggedIn = false;

  /** @internal Use {@link connect}. */
  constructor(ctrl: ControlConnection, options: ConnectOptions) {
    super();
    this.ctrl = ctrl;
    this.options = options;
    this.timeout = options.timeout ?? 30_000;
    this.passive = options.passive ?? true;
  }

  /** True when the control connection is protected by TLS. */
  get secure(): boolean {
    return this.ctrl.secure;
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.ctrl.closed;
  }

  /** The options this client was connected with (for opening siblings). */
  get connectOptions(): Readonly<ConnectOptions> {
    return this.options;
  }

  /** @internal Sets up TLS on the control connection; called by {@link connect}. */
  async init(tlsOptions: tls.ConnectionOptions, mode: 'explicit' | 'implicit' | undefined, signal?: AbortSignal): Promise<void> {
    this.tlsMode = mode;
    this.tlsOptions = tlsOptions;
    if (mode !== 'explicit') return;
    const r = await this.ctrl.command('AUTH TLS', this.timeout, signal);
    if (r.code !== 234) throw new FtpTlsError(`server refused AUTH TLS (${r.code} ${r.message}); not falling back to clear text`);
    try {
      await this.ctrl.upgrade(tlsOptions, this.timeout);
    } catch (err) {
      this.ctrl.close();
      throw new FtpTlsError(`TLS handshake failed: ${(err as Error).message}`);
    }
  }

  /** True after a successful {@link FtpClient.login}. */
  get loggedIn(): boolean {
    return this.isLoggedIn;
  }

  /**
   * Logs in (USER, then PASS when the server asks for it), then sets up data
   * protection (PBSZ 0, PROT P) under TLS and reads FEAT. `password` may be
   * a function, called only if the server asks for a password. {@link connect}
   * calls this unless `login: false`.
   */
  login(user = 'anonymous', password: string | (() => Promise<string>) = 'anonymous@', options?: CallOptions): Promise<void> {
    return this.run(async () => {
      const signal = this.signalFor(options);
      let r = await this.ctrl.command(`USER ${user}`, this.timeout, signal);
      if (r.code === 331 || r.code === 332) {
        const pass = typeof password === 'string' ? password : await password();
        r = await this.ctrl.command(`PASS ${pass}`, this.timeout, signal);
      }
      // The password is out of scope here: the mask alone is wanted, in the protocol's form (`PASS ****`).
      if (r.code !== 230 && r.code !== 202) throw new FtpReplyError(r.code, r.message, r.code === 331 ? `USER ${user}` : redactCommand('PASS', ''));
      if (this.tlsMode) {
        await this.expect('PBSZ 0', signal);
        await this.expect('PROT P', signal);
        this.dataTls = this.tlsOptions;
      }
      await this.loadFeatures(signal);
      if (this.features.has('UTF8')) await this.ctrl.command('OPTS UTF8 ON', this.timeout, signal);
      this.currentType = undefined;
      this.isLoggedIn = true;
    });
  }

  private async loadFeatures(signal?: AbortSignal): Promise<void> {
    this.features.clear();
    const r = await this.ctrl.command('FEAT', this.timeout, signal);
    if (r.code !== 211) return;
    for (const line of r.lines.slice(1, -1)) {
      const text = line.trim();
      const sp = text.indexOf(' ');
      const name = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
      if (name) this.features.set(name, sp < 0 ? '' : text.slice(sp + 1));
    }
  }

  /** Queues a task so that calls on one connection never interleave. */
  private run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private signalFor(options?: CallOptions): AbortSignal | undefined {
    const signals = [options?.signal, this.options.signal].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length <= 1) return signals[0];
    return AbortSignal.any(signals);
  }

  /** Sends a command and returns its reply; throws FtpReplyError on 4xx/5xx. */
  private async expect(command: string, signal?: AbortSignal): Promise<FtpReply> {
    const r = await this.ctrl.command(command, this.timeout, signal);
    if (replyKind.negative(r.code) || replyKind.preliminary(r.code)) throw new FtpReplyError(r.code, r.message, command);
    return r;
  }

  /**
   * Sends any command and returns the reply as is (no error for 4xx/5xx).
   * Do not use it for commands that open data connections.
   */
  send(command: string, options?: CallOptions): Promise<FtpReply> {
    return this.run(async () => {
      if (/^TYPE\b/i.test(command)) this.currentType = undefined;
      return this.ctrl.command(command, this.timeout, this.signalFor(options));
    });
  }

  /** The current remote directory (PWD). */
  pwd(options?: CallOptions): Promise<string> {
    return this.run(async () => {
      const r = await this.expect('PWD', this.signalFor(options));
      const path = parsePathReply(r.message);
      if (path === null) throw new FtpProtocolError(`cannot parse PWD reply: ${r.message}`);
      return path;
    });
  }

  /** Changes the remote directory (CWD); `..` uses CDUP. */
  cd(path: string, options?: CallOptions): Promise<void> {
    return this.run(async () => {
      await this.expect(path === '..' ? 'CDUP' : `CWD ${path}`, this.signalFor(options));
    });
  }

  /** Size of a remote file in bytes (SIZE, in binary type). */
  size(path: string, options?: CallOptions): Promise<number> {
    return this.run(() => this.sizeNow(path, this.signalFor(options)));
  }

  private async sizeNow(path: string, signal?: AbortSignal): Promise<number> {
    await this.setType('I', signal);
    const r = await this.expect(`SIZE ${path}`, signal);
    const n = Number(r.message.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new FtpProtocolError(`cannot parse SIZE reply: ${r.message}`);
    return n;
  }

  /** Last modification time of a remote file (MDTM). */
  lastModified(path: string, options?: CallOptions): Promise<Date> {
    return this.run(async () => {
      const r = await this.expect(`MDTM ${path}`, this.signalFor(options));
      const date = parseTimeVal(r.message.trim());
      if (!date) throw new FtpProtocolError(`cannot parse MDTM reply: ${r.message}`);
      return date;
    });
  }

  /** Sets a remote file's modification time (MFMT) when the server offers it; returns false otherwise. */
  setLastModified(path: string, date: Date, options?: CallOptions): Promise<boolean> {
    return this.run(async () => {
      if (!this.features.has('MFMT')) return false;
      const stamp = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
      const r = await this.ctrl.command(`MFMT ${stamp} ${path}`, this.timeout, this.signalFor(options));
      return replyKind.completion(r.code);
    });
  }

  /** Creates a directory; with `recursive`, also its missing parents (and no error if it exists). */
  mkdir(path: string, options?: CallOptions & { recursive?: boolean }): Promise<void> {
    return this.run(async () => {
      const signal = this.signalFor(options);
      if (!options?.recursive) {
        await this.expect(`MKD ${path}`, signal);
        return;
      }
      const parts = path.split('/');
      let prefix = path.startsWith('/') ? '/' : '';
      for (const part of parts) {
        if (!part) continue;
        prefix = prefix === '' || prefix.endsWith('/') ? prefix + part : `${prefix}/${part}`;
        const r = await this.ctrl.command(`MKD ${prefix}`, this.timeout, signal);
        if (replyKind.completion(r.code)) continue;
        // Exists already? CWD into it proves it is a directory.
        const pwd = await this.expect('PWD', signal);
        const cwd = await this.ctrl.command(`CWD ${prefix}`, this.timeout, signal);
        if (!replyKind.completion(cwd.code)) throw new FtpReplyError(r.code, r.message, `MKD ${prefix}`);
        const back = parsePathReply(pwd.message) ?? '/';
        await this.expect(`CWD ${back}`, signal);
      }
    });
  }

  /** Deletes a remote file (DELE). */
  remove(path: string, options?: CallOptions): Promise<void> {
    return this.run(async () => {
      await this.expect(`DELE ${path}`, this.signalFor(options));
    });
  }

  /** Removes a remote directory (RMD); with `recursive`, its contents first. */
  removeDir(path: string, options?: CallOptions & { recursive?: boolean }): Promise<void> {
    return this.run(() => this.removeDirNow(path, options?.recursive ?? false, this.signalFor(options)));
  }

  private async removeDirNow(path: string, recursive: boolean, signal?: AbortSignal): Promise<void> {
    if (recursive) {
      const base = path.endsWith('/') ? path : `${path}/`;
      for (const entry of await this.listNow(path, false, signal)) {
        const child = base + entry.name;
        if (entry.type === 'directory') await this.removeDirNow(child, true, signal);
        else await this.expect(`DELE ${child}`, signal);
      }
    }
    await this.expect(`RMD ${path}`, signal);
  }

  /** Renames (moves) a remote file or directory (RNFR/RNTO). */
  rename(from: string, to: string, options?: CallOptions): Promise<void> {
    return this.run(async () => {
      const signal = this.signalFor(options);
      const r = await this.ctrl.command(`RNFR ${from}`, this.timeout, signal);
      if (r.code !== 350) throw new FtpReplyError(r.code, r.message, `RNFR ${from}`);
      await this.expect(`RNTO ${to}`, signal);
    });
  }

  /** Lists a directory: MLSD when FEAT offers MLST, else LIST parsed (Unix or DOS format). */
  list(path = '', options?: ListOptions): Promise<FileInfo[]> {
    return this.run(() => this.listNow(path, options?.forceList ?? false, this.signalFor(options)));
  }

  private async listNow(path: string, forceList: boolean, signal?: AbortSignal): Promise<FileInfo[]> {
    if (!forceList && this.features.has('MLST')) return parseMlsd(await this.readText(path ? `MLSD ${path}` : 'MLSD', signal));
    return parseList(await this.readText(path ? `LIST ${path}` : 'LIST', signal));
  }

  /** Lines of a raw listing: `LIST` (the default), `NLST` or `MLSD`. */
  listRaw(path = '', options?: CallOptions & { command?: 'LIST' | 'NLST' | 'MLSD' }): Promise<string[]> {
    return this.run(async () => {
      const verb = options?.command ?? 'LIST';
      return splitLines(await this.readText(path ? `${verb} ${path}` : verb, this.signalFor(options)));
    });
  }

  private async readText(command: string, signal?: AbortSignal): Promise<string> {
    const chunks: Buffer[] = [];
    await runTransfer(this.transferContext(signal), command, async (socket) => {
      for await (const chunk of socket) chunks.push(chunk as Buffer);
    });
    return Buffer.concat(chunks).toString('utf8');
  }

  private transferContext(signal?: AbortSignal): TransferContext {
    const settings: DataSettings = {
      passive: this.passive,
      tls: this.dataTls,
      timeout: this.options.dataTimeout ?? this.timeout,
      signal,
    };
    return { ctrl: this.ctrl, settings, memory: this.memory, timeout: this.timeout };
  }

  private async setType(type: 'A' | 'I', signal?: AbortSignal): Promise<void> {
    if (this.currentType === type) return;
    await this.expect(`TYPE ${type}`, signal);
    this.currentType = type;
  }

  /**
   * Downloads a remote file to a local path or a writable stream (which is
   * not ended). Resolves with the number of bytes received; throws if the
   * transfer failed or came out short.
   */
  download(remotePath: string, destination: string | Writable, options: DownloadOptions = {}): Promise<number> {
    return this.run(async () => {
      const signal = this.signalFor(options);
      const offset = options.offset ?? 0;
      const ascii = options.mode === 'ascii';
      let expected = options.expectedSize;
      if (expected === undefined && !ascii) expected = await this.sizeNow(remotePath, signal).catch(() => undefined);
      await this.setType(ascii ? 'A' : 'I', signal);
      if (offset > 0) await this.expect(`REST ${offset}`, signal);
      const counter = this.counter(remotePath, 'download', expected === undefined ? undefined : expected - offset, offset, options);
      const end = typeof destination === 'string';
      await runTransfer(this.transferContext(signal), `RETR ${remotePath}`, async (socket) => {
        // A local file is opened only once the server agreed to send: a refused RETR leaves nothing behind.
        let sink: Writable;
        if (typeof destination === 'string') {
          if (offset > 0) await fs.promises.truncate(destination, offset);
          sink = fs.createWriteStream(destination, { flags: offset > 0 ? 'a' : 'w' });
        } else {
          sink = destination;
        }
        if (ascii) await pipeline(socket, counter, crlfToLf(), sink, { end });
        else await pipeline(socket, counter, sink, { end });
      });
      this.finishCounter(counter, options);
      if (expected !== undefined && counter.bytes !== expected - offset) {
        throw new FtpIntegrityError(`${remotePath}: received ${counter.bytes} bytes, expected ${expected - offset}`, expected - offset, counter.bytes);
      }
      return counter.bytes;
    });
  }

  /**
   * Uploads a local path or a readable stream to a remote file (STOR, or
   * APPE with `append`, or REST+STOR with `offset`). Resolves with the
   * number of bytes sent; when the source is a file, checks the remote SIZE
   * afterwards if the server offers it.
   */
  upload(source: string | Readable, remotePath: string, options: UploadOptions = {}): Promise<number> {
    return this.run(async () => {
      const signal = this.signalFor(options);
      const offset = options.offset ?? 0;
      const ascii = options.mode === 'ascii';
      let total: number | undefined;
      let input: Readable;
      if (typeof source === 'string') {
        total = (await fs.promises.stat(source)).size - offset;
        input = fs.createReadStream(source, { start: offset });
      } else {
        input = source;
      }
      await this.setType(ascii ? 'A' : 'I', signal);
      if (offset > 0 && !options.append) await this.expect(`REST ${offset}`, signal);
      const counter = this.counter(remotePath, 'upload', total, offset, options);
      const verb = options.append ? 'APPE' : 'STOR';
      await runTransfer(this.transferContext(signal), `${verb} ${remotePath}`, async (socket) => {
        if (ascii) await pipeline(input, lfToCrlf(), counter, socket);
        else await pipeline(input, counter, socket);
        await closed(socket);
      });
      this.finishCounter(counter, options);
      if (total !== undefined && !ascii) {
        if (counter.bytes !== total) throw new FtpIntegrityError(`${remotePath}: sent ${counter.bytes} bytes, expected ${total}`, total, counter.bytes);
        if (!options.append && this.features.has('SIZE')) {
          const remote = await this.sizeNow(remotePath, signal).catch(() => undefined);
          if (remote !== undefined && remote !== offset + total) {
            throw new FtpIntegrityError(`${remotePath}: server has ${remote} bytes after upload, expected ${offset + total}`, offset + total, remote);
          }
        }
      }
      return counter.bytes;
    });
  }

  /** Appends a local file or stream to a remote file (APPE). */
  append(source: string | Readable, remotePath: string, options: UploadOptions = {}): Promise<number> {
    return this.upload(source, remotePath, { ...options, append: true });
  }

  private counter(name: string, type: 'download' | 'upload', total: number | undefined, offset: number, options: DownloadOptions | UploadOptions): ProgressCounter {
    return new ProgressCounter(
      { name, type, total, offset },
      (p) => {
        options.onProgress?.(p);
        this.emit('progress', p);
      },
      options.progressInterval ?? 100,
    );
  }

  private finishCounter(counter: ProgressCounter, _options: unknown): void {
    counter.finish();
  }

  /** Ends the session politely (QUIT) and closes the connection. Never throws. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.ctrl.closed) return;
      try {
        await this.ctrl.command('QUIT', Math.min(this.timeout, 5000));
      } catch {
        // the server may close first; either way we are done
      }
      this.ctrl.close();
    });
  }

  /** Closes the connection at once, without QUIT, failing pending calls. */
  destroy(): void {
    this.ctrl.close();
  }
}
