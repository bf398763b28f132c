/**
 * Promise wrappers over ssh2's SFTPWrapper, and pipelined reads and writes:
 * several requests in flight on one handle, as OpenSSH's sftp does, so a
 * transfer is not one round trip per chunk.
 */
import type { Readable } from 'node:stream';
import type { OpenMode, SFTPWrapper, Stats } from 'ssh2';
import { FtpAbortError } from '../errors.js';
import { sftpError } from './errors.js';
import type { Watchdog } from './watchdog.js';

/** Bytes per read or write request (under the 32 KiB floor every server accepts, with room for the header). */
export const CHUNK = 31 * 1024;
/** Requests kept in flight per transfer. */
export const WINDOW = 32;

/** Calls an ssh2 callback-style method and maps its error to an SftpError naming `command`. */
export function call<T>(command: string, fn: (cb: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(sftpError(err, command)) : resolve(value as T)));
    } catch (err) {
      reject(sftpError(err, command));
    }
  });
}

/** An open remote file. */
export class RemoteHandle {
  private closed = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    readonly path: string,
    readonly handle: Buffer,
    private readonly watchdog: Watchdog,
  ) {}

  /** Opens `path` with fopen-like `flags` (`r`, `w`, `r+`, `a`...); every request on it is watched by `watchdog`. */
  static async open(sftp: SFTPWrapper, path: string, flags: OpenMode, watchdog: Watchdog): Promise<RemoteHandle> {
    const handle = await watchdog.track(call<Buffer>(`open ${path}`, (cb) => sftp.open(path, flags, cb)));
    return new RemoteHandle(sftp, path, handle, watchdog);
  }

  /** Reads up to `length` bytes at `position`; an empty buffer at the end of the file. */
  read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    return this.watchdog.track(
      new Promise<Buffer>((resolve, reject) => {
        this.sftp.read(this.handle, buf, 0, length, position, (err, n) => (err ? reject(sftpError(err, `read ${this.path}`)) : resolve(buf.subarray(0, n))));
      }),
    );
  }

  /** Writes `data` at `position`. */
  write(data: Buffer, position: number): Promise<void> {
    return this.watchdog.track(call<void>(`write ${this.path}`, (cb) => this.sftp.write(this.handle, data, 0, data.length, position, cb)));
  }

  /** The file's attributes. */
  stat(): Promise<Stats> {
    return this.watchdog.track(call<Stats>(`fstat ${this.path}`, (cb) => this.sftp.fstat(this.handle, cb)));
  }

  /** Closes the handle; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watchdog.track(call<void>(`close ${this.path}`, (cb) => this.sftp.close(this.handle, cb)));
  }
}

/**
 * Yields the file from `start` to its end, in order, keeping {@link WINDOW}
 * reads in flight. A short read (the server may return less than asked)
 * is completed before moving on; an empty read is the end of the file.
 */
export async function* readPipelined(h: RemoteHandle, start: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const inflight: Array<{ position: number; length: number; result: Promise<Buffer> }> = [];
  let next = start;
  let eof = false;
  const issue = (): void => {
    inflight.push({ position: next, length: CHUNK, result: h.read(next, CHUNK) });
    next += CHUNK;
  };
  try {
    for (let i = 0; i < WINDOW; i++) issue();
    while (inflight.length > 0 && !eof) {
      if (signal?.aborted) throw new FtpAbortError('operation aborted');
      const head = inflight.shift() as (typeof inflight)[number];
      let data = await head.result;
      let got = data.length;
      while (data.length > 0) {
        yield data;
        if (got >= head.length) break;
        data = await h.read(head.position + got, head.length - got);
        got += data.length;
      }
      if (got < head.length) eof = true;
      else issue();
    }
  } finally {
    // Let the reads still in flight settle so none rejects unobserved.
    await Promise.allSettled(inflight.map((r) => r.result));
  }
}

/**
 * Writes everything `input` yields to `h` from `start`, in {@link CHUNK}
 * requests with up to {@link WINDOW} in flight. Resolves with the bytes written.
 */
export async function writePipelined(h: RemoteHandle, input: Readable, start: number, signal?: AbortSignal): Promise<number> {
  const inflight = new Set<Promise<void>>();
  let failure: Error | undefined;
  let position = start;
  const send = (data: Buffer): void => {
    const p: Promise<void> = h.write(data, position).then(
      () => void inflight.delete(p),
      (err: unknown) => {
        inflight.delete(p);
        failure ??= err as Error;
      },
    );
    inflight.add(p);
    position += data.length;
  };
  try {
    for await (const chunk of input) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      for (let off = 0; off < buf.length; off += CHUNK) {
        while (inflight.size >= WINDOW && !failure) await Promise.race(inflight);
        if (failure) throw failure;
        if (signal?.aborted) throw new FtpAbortError('operation aborted');
        send(buf.subarray(off, off + CHUNK));
      }
    }
    await Promise.all(inflight);
    if (failure) throw failure;
    return position - start;
  } finally {
    await Promise.allSettled(inflight);
  }
}
