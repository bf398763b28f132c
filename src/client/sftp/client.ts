/**
 * The SFTP client: the same calls as {@link FtpClient} over one SSH
 * connection and its `sftp` subsystem (ssh2). The current directory is kept
 * on the client side, as SFTP has none. Create it with {@link connect}.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import type { FtpClientEvents } from '../client.js';
import { FtpAbortError, FtpClientError, FtpIntegrityError } from '../errors.js';
import type { FileInfo, FileType } from '../listing/index.js';
import { makeInfo } from '../listing/types.js';
import { permissionString } from '../../protocol/listing/unix.js';
import type { CallOptions, DownloadOptions, UploadOptions } from '../options.js';
import { ProgressCounter } from '../transfer.js';
import { SftpError } from './errors.js';
import { call, readPipelined, RemoteHandle, writePipelined } from './io.js';
import { Watchdog } from './watchdog.js';
import type { SftpConnectOptions } from './options.js';

const S_IFMT = 0o170000;
const TYPES = new Map<number, FileType>([
  [0o100000, 'file'],
  [0o040000, 'directory'],
  [0o120000, 'symlink'],
]);

/** Turns an SFTP name entry into a {@link FileInfo}. */
export function toFileInfo(name: string, attrs: { mode?: number; size?: number; mtime?: number }, longname = ''): FileInfo {
  const mode = attrs.mode;
  return makeInfo({
    name,
    raw: longname || name,
    type: mode === undefined ? 'unknown' : (TYPES.get(mode & S_IFMT) ?? 'unknown'),
    size: attrs.size,
    modifiedAt: attrs.mtime === undefined ? undefined : new Date(attrs.mtime * 1000),
    permissions: mode === undefined ? undefined : permissionString(mode),
  });
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FtpAbortError('operation aborted');
}

/**
 * A logged-in SFTP session. Calls may be made concurrently: SFTP requests
 * carry ids, so they share the one connection.
 */
export class SftpClient extends EventEmitter<FtpClientEvents> {
  /** Always `sftp` (tells it from an FtpClient). */
  readonly protocol = 'sftp' as const;
  private cwd: string;
  private isClosed = false;
  /** Fails every call when the server stops answering for the timeout. */
  private readonly watchdog: Watchdog;

  /** @internal Use {@link connect}. */
  constructor(
    private readonly ssh: Client,
    private readonly sftp: SFTPWrapper,
    private readonly options: SftpConnectOptions,
    /** The login directory (absolute), where relative paths start. */
    readonly home: string,
  ) {
    super();
    this.cwd = home;
    this.watchdog = new Watchdog(options.timeout ?? 30_000, () => ssh.destroy());
    ssh.once('close', () => {
      this.isClosed = true;
      this.watchdog.stop();
    });
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The options this client was connected with (for opening siblings). */
  get connectOptions(): Readonly<SftpConnectOptions> {
    return this.options;
  }

  /** An absolute remote path: relative ones start at the current directory; `~` is the login directory. */
  resolve(path: string): string {
    if (path === '~' || path.startsWith('~/')) return posix.normalize(posix.join(this.home, path.slice(1)));
    if (path === '') return this.cwd;
    return posix.normalize(path.startsWith('/') ? path : posix.join(this.cwd, path));
  }

  /** One request, watched for a reply within the timeout. */
  private call<T>(command: string, fn: Parameters<typeof call<T>>[1]): Promise<T> {
    return this.watchdog.track(call<T>(command, fn));
  }

  private stat(path: string): Promise<Stats> {
    const p = this.resolve(path);
    return this.call<Stats>(`stat ${p}`, (cb) => this.sftp.stat(p, cb));
  }

  /** The current remote directory (kept by the client). */
  async pwd(_options?: CallOptions): Promise<string> {
    return this.cwd;
  }

  /** Changes the current directory, after checking that it is one. */
  async cd(path: string, options?: CallOptions): Promise<void> {
    checkAbort(options?.signal);
    const target = this.resolve(path);
    const st = await this.stat(target);
    if (!st.isDirectory()) throw new SftpError(4, 'not a directory', `cd ${target}`);
    this.cwd = target;
  }

  /** Size of a remote file in bytes. */
  async size(path: string, options?: CallOptions): Promise<number> {
    checkAbort(options?.signal);
    const st = await this.stat(path);
    if (!st.isFile()) throw new SftpError(4, 'not a regular file', `size ${this.resolve(path)}`);
    return st.size;
  }

  /** Last modification time of a remote file. */
  async lastModified(path: string, options?: CallOptions): Promise<Date> {
    checkAbort(options?.signal);
    return new Date((await this.stat(path)).mtime * 1000);
  }

  /** Sets a remote file's modification time (and access time); true when done. */
  async setLastModified(path: string, date: Date, options?: CallOptions): Promise<boolean> {
    checkAbort(options?.signal);
    const p = this.resolve(path);
    const secs = Math.floor(date.getTime() / 1000);
    await this.call<void>(`setstat ${p}`, (cb) => this.sftp.utimes(p, secs, secs, cb));
    return true;
  }

  /** Lists a directory (without `.` and `..`); a file lists as itself, as `ls` does. */
  async list(path = '', options?: CallOptions): Promise<FileInfo[]> {
    checkAbort(options?.signal);
    const p = this.resolve(path);
    const entries = await this.call<Array<{ filename: string; longname: string; attrs: Stats }>>(`readdir ${p}`, (cb) => this.sftp.readdir(p, cb)).catch(async (err: unknown) => {
      const st = await this.stat(p).catch(() => undefined);
      if (!st || st.isDirectory()) throw err;
      return [{ filename: posix.basename(p), longname: '', attrs: st }];
    });
    return entries.filter((e) => e.filename !== '.' && e.filename !== '..').map((e) => toFileInfo(e.filename, e.attrs, e.longname));
  }

  /** Creates a directory; with `recursive`, also its missing parents (and no error if it exists). */
  async mkdir(path: string, options?: CallOptions & { recursive?: boolean }): Promise<void> {
    checkAbort(options?.signal);
    const target = this.resolve(path);
    if (!options?.recursive) {
      await this.call<void>(`mkdir ${target}`, (cb) => this.sftp.mkdir(target, cb));
      return;
    }
    let prefix = '';
    for (const part of target.split('/').filter(Boolean)) {
      prefix = `${prefix}/${part}`;
      const st = await this.stat(prefix).catch(() => undefined);
      if (st?.isDirectory()) continue;
      if (st) throw new SftpError(4, 'exists and is not a directory', `mkdir ${prefix}`);
      const dir = prefix;
      await this.call<void>(`mkdir ${dir}`, (cb) => this.sftp.mkdir(dir, cb)).catch(async (err: unknown) => {
        // Made meanwhile by someone else (a parallel mirror worker)? Fine.
        if (!(await this.stat(dir).catch(() => undefined))?.isDirectory()) throw err;
      });
    }
  }

  /** Deletes a remote file. */
  async remove(path: string, options?: CallOptions): Promise<void> {
    checkAbort(options?.signal);
    const p = this.resolve(path);
    await this.call<void>(`remove ${p}`, (cb) => this.sftp.unlink(p, cb));
  }

  /** Removes a remote directory; with `recursive`, its contents first. */
  async removeDir(path: string, options?: CallOptions & { recursive?: boolean }): Promise<void> {
    checkAbort(options?.signal);
    const p = this.resolve(path);
    if (options?.recursive) {
      for (const entry of await this.list(p, options)) {
        const child = posix.join(p, entry.name);
        if (entry.type === 'directory') await this.removeDir(child, options);
        else await this.remove(child, options);
      }
    }
    await this.call<void>(`rmdir ${p}`, (cb) => this.sftp.rmdir(p, cb));
  }

  /** Renames (moves) a remote file or directory, replacing the target where the server allows (posix-rename). */
  async rename(from: string, to: string, options?: CallOptions): Promise<void> {
    checkAbort(options?.signal);
    const a = this.resolve(from);
    const b = this.resolve(to);
    const command = `rename ${a} ${b}`;
    try {
      await this.call<void>(command, (cb) => this.sftp.ext_openssh_rename(a, b, cb));
    } catch (err) {
      if (!(err instanceof SftpError) || err.code !== 0) throw err;
      await this.call<void>(command, (cb) => this.sftp.rename(a, b, cb));
    }
  }

  /**
   * Downloads a remote file to a local path or a writable stream (not
   * ended), from `offset` when given. The byte count is checked against the
   * remote size (or `expectedSize`): a short transfer throws FtpIntegrityError.
   */
  async download(remotePath: string, destination: string | Writable, options: DownloadOptions = {}): Promise<number> {
    const signal = options.signal;
    checkAbort(signal);
    if (options.mode === 'ascii') throw new FtpClientError('SFTP has no ASCII transfer mode');
    const p = this.resolve(remotePath);
    const offset = options.offset ?? 0;
    const handle = await RemoteHandle.open(this.sftp, p, 'r', this.watchdog);
    try {
      const expected = options.expectedSize ?? (await handle.stat()).size;
      const counter = this.counter(remotePath, 'download', expected - offset, offset, options);
      // A local file is opened only once the server agreed to send: a refused open leaves nothing behind.
      let sink: Writable;
      if (typeof destination === 'string') {
        if (offset > 0) await fs.promises.truncate(destination, offset);
        sink = fs.createWriteStream(destination, { flags: offset > 0 ? 'a' : 'w' });
      } else {
        sink = destination;
      }
      await pipeline(Readable.from(readPipelined(handle, offset, signal)), counter, sink, { end: typeof destination === 'string', signal });
      counter.finish();
      if (counter.bytes !== expected - offset) {
        throw new FtpIntegrityError(`${remotePath}: received ${counter.bytes} bytes, expected ${expected - offset}`, expected - offset, counter.bytes);
      }
      return counter.bytes;
    } catch (err) {
      throw signal?.aborted ? new FtpAbortError('operation aborted') : err;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * Uploads a local path or a readable stream to a remote file, with several
   * write requests in flight. With `offset` (a file source is read from
   * there) the remote file is written from that position; with `append`,
   * from its current end. For a file source, the remote size is checked.
   */
  async upload(source: string | Readable, remotePath: string, options: UploadOptions = {}): Promise<number> {
    const signal = options.signal;
    checkAbort(signal);
    if (options.mode === 'ascii') throw new FtpClientError('SFTP has no ASCII transfer mode');
    const p = this.resolve(remotePath);
    const offset = options.offset ?? 0;
    const total = typeof source === 'string' ? (await fs.promises.stat(source)).size - offset : undefined;
    const keep = offset > 0 || options.append === true;
    // Resumes and appends write at explicit positions into the existing file (r+), made if missing.
    const handle = keep
      ? await RemoteHandle.open(this.sftp, p, 'r+', this.watchdog).catch((err: unknown) => {
          if (err instanceof SftpError && err.code === 2) return RemoteHandle.open(this.sftp, p, 'w', this.watchdog);
          throw err;
        })
      : await RemoteHandle.open(this.sftp, p, 'w', this.watchdog);
    const input = typeof source === 'string' ? fs.createReadStream(source, { start: offset }) : source;
    try {
      const start = options.append ? (await handle.stat()).size : offset;
      const counter = this.counter(remotePath, 'upload', total, start, options);
      input.once('error', (err: Error) => counter.destroy(err));
      const sent = await writePipelined(handle, input.pipe(counter), start, signal);
      await handle.close();
      counter.finish();
      if (total !== undefined) {
        if (sent !== total) throw new FtpIntegrityError(`${remotePath}: sent ${sent} bytes, expected ${total}`, total, sent);
        const remote = (await this.stat(p)).size;
        if (remote < start + total) throw new FtpIntegrityError(`${remotePath}: server has ${remote} bytes after upload, expected ${start + total}`, start + total, remote);
      }
      return sent;
    } catch (err) {
      input.destroy();
      throw signal?.aborted ? new FtpAbortError('operation aborted') : err;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** Appends a local file or stream to a remote file (created if missing). */
  append(source: string | Readable, remotePath: string, options: UploadOptions = {}): Promise<number> {
    return this.upload(source, remotePath, { ...options, append: true });
  }

  private counter(name: string, type: 'download' | 'upload', total: number | undefined, offset: number, options: DownloadOptions | UploadOptions): ProgressCounter {
    const report = (pr: Parameters<NonNullable<DownloadOptions['onProgress']>>[0]): void => {
      options.onProgress?.(pr);
      this.emit('progress', pr);
    };
    return new ProgressCounter({ name, type, total, offset }, report, options.progressInterval ?? 100);
  }

  /** Ends the SFTP session and the SSH connection. Never throws. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    const done = new Promise<void>((resolve) => {
      this.ssh.once('close', () => resolve());
      const timer = setTimeout(() => {
        this.ssh.destroy();
        resolve();
      }, 5000);
      timer.unref();
      this.ssh.once('close', () => clearTimeout(timer));
    });
    try {
      this.sftp.end();
      this.ssh.end();
    } catch {
      this.ssh.destroy();
    }
    await done;
  }

  /** Closes the connection at once, failing pending calls. */
  destroy(): void {
    this.ssh.destroy();
  }
}
