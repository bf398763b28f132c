/**
 * Open SFTP file handles over the Vfs's streams. SFTP addresses bytes by
 * offset; the Vfs streams them. A reader follows the client's offsets and
 * reopens only when it jumps; a writer accepts the requests a client keeps
 * in flight (OpenSSH and rclone send several) in any order, holding the
 * early ones in a bounded buffer until the gap before them is filled, so
 * the file is written front to back and appears whole on commit.
 */
import type { Readable } from 'node:stream';
import type { ReadHandle, Upload, Vfs, VfsStat } from '../vfs/types.js';
import { VfsError } from '../vfs/errors.js';
import { SftpError, STATUS } from './attrs.js';

/**
 * Bytes held ahead of gaps, shared by every upload of one connection (so
 * many open handles cannot multiply it): past it, the write fails.
 */
export class AheadBudget {
  private used = 0;

  constructor(readonly max = 32 * 1024 * 1024) {}

  /** Reserves `n` bytes; false when that would pass the limit. */
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  /** Gives back `n` bytes. */
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** Waits until `stream` can take more, or fails with its error. */
function whenReadable(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('readable', ok);
      stream.off('end', ok);
      stream.off('error', done);
      stream.off('close', ok);
      if (err) reject(err);
      else resolve();
    };
    const ok = () => done();
    stream.once('readable', ok);
    stream.once('end', ok);
    stream.once('close', ok);
    stream.once('error', done);
  });
}

/** A file opened for reading. */
export class FileReader {
  private stream: Readable | null = null;
  private pos = 0;
  private leftover: Buffer | null = null;
  /** Bytes sent to the client. */
  bytes = 0;
  /** A read error of the open stream: the client gets a failure, never an early EOF. */
  private failure: Error | null = null;

  /** The file's size when it was opened (for the admin console). */
  readonly size: number | null;

  constructor(
    private readonly vfs: Vfs,
    readonly path: string,
    private first: ReadHandle | null,
  ) {
    this.size = first?.stat.size ?? null;
  }

  /** The file's metadata when it was opened. */
  get stat(): VfsStat | null {
    return this.first?.stat ?? null;
  }

  /**
   * `length` bytes from `offset`, fewer only at the end of the file; null
   * at its end. A short read before the end breaks clients that pipeline
   * reads (libssh2: "Read Packet At Unexpected Offset"), and the draft
   * promises full reads for plain files.
   */
  async read(offset: number, length: number): Promise<Buffer | null> {
    if (this.stream === null || offset !== this.pos) {
      if (!(await this.reopen(offset))) return null;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const chunk = await this.nextChunk();
      if (chunk === null) break;
      const part = this.take(chunk, length - got);
      parts.push(part);
      got += part.length;
    }
    if (got === 0) return null;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, got);
  }

  /** The next bytes of the open stream; null at its end. */
  private async nextChunk(): Promise<Buffer | null> {
    const stream = this.stream as Readable;
    for (let waits = 0; ; waits++) {
      const chunk = this.leftover ?? (stream.read() as Buffer | null);
      this.leftover = null;
      if (chunk !== null) return chunk;
      if (this.failure) throw this.failure;
      if (stream.readableEnded || stream.destroyed || waits > 1_000_000) return null;
      await whenReadable(stream);
    }
  }

  private take(chunk: Buffer, length: number): Buffer {
    const out = chunk.length > length ? chunk.subarray(0, length) : chunk;
    if (chunk.length > length) this.leftover = chunk.subarray(length);
    this.pos += out.length;
    this.bytes += out.length;
    return out;
  }

  /** Opens the content at `offset`; false when that is past the end. */
  private async reopen(offset: number): Promise<boolean> {
    this.stream?.destroy();
    this.leftover = null;
    let handle = this.first;
    this.first = null;
    if (!handle || offset !== 0) {
      handle?.close();
      try {
        handle = await this.vfs.read(this.path, offset);
      } catch (err) {
        if (err instanceof VfsError && err.code === 'bad-offset') return false;
        throw err;
      }
    }
    this.stream = handle.stream;
    this.stream.pause();
    this.failure = null;
    this.stream.on('error', (err: Error) => (this.failure = err));
    this.pos = offset;
    return true;
  }

  /** Releases the file. */
  close(): void {
    this.first?.close();
    this.first = null;
    this.stream?.destroy();
    this.stream = null;
  }
}

/** A file opened for writing: an upload that becomes visible on commit. */
export class FileWriter {
  private readonly ahead = new Map<number, Buffer>();
  private aheadBytes = 0;
  private failure: Error | null = null;
  /** The mtime to set once the file is in place (FSETSTAT before CLOSE). */
  mtime: Date | null = null;

  constructor(
    readonly path: string,
    private readonly upload: Upload,
    /** The offset the next byte of the file belongs at. */
    private next: number,
    /** Append mode: every write goes to the end, whatever its offset. */
    private readonly appending: boolean,
    /** The connection's budget for out-of-order data. */
    private readonly budget: AheadBudget,
  ) {
    upload.stream.on('error', (err: Error) => (this.failure ??= err));
  }

  /** Drops what is held ahead of a gap and gives its budget back. */
  private releaseAhead(): void {
    this.budget.give(this.aheadBytes);
    this.aheadBytes = 0;
    this.ahead.clear();
  }

  /** Bytes received so far (for FSTAT). */
  get size(): number {
    return this.next;
  }

  /** Takes the data of one WRITE request; a refused one fails the whole upload (CLOSE then stores nothing). */
  async write(offset: number, data: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      await this.accept(offset, data);
    } catch (err) {
      this.failure ??= err as Error;
      throw err;
    }
  }

  private async accept(offset: number, data: Buffer): Promise<void> {
    if (this.appending || offset === this.next) {
      await this.put(data);
      await this.drainAhead();
      return;
    }
    if (offset < this.next) throw new SftpError(STATUS.OP_UNSUPPORTED, 'rewriting bytes already written is not supported');
    if (this.ahead.has(offset) || !this.budget.take(data.length)) throw new SftpError(STATUS.FAILURE, 'too many out-of-order writes');
    this.ahead.set(offset, data);
    this.aheadBytes += data.length;
  }

  private async drainAhead(): Promise<void> {
    for (let chunk = this.ahead.get(this.next); chunk !== undefined; chunk = this.ahead.get(this.next)) {
      this.ahead.delete(this.next);
      this.aheadBytes -= chunk.length;
      this.budget.give(chunk.length);
      await this.put(chunk);
    }
  }

  private async put(data: Buffer): Promise<void> {
    this.next += data.length;
    const stream = this.upload.stream;
    if (stream.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => {
        stream.off('drain', ok);
        stream.off('error', done);
        stream.off('close', ok);
        if (err) reject(err);
        else resolve();
      };
      const ok = () => done(this.failure);
      stream.once('drain', ok);
      stream.once('close', ok);
      stream.once('error', done);
    });
  }

  /** Ends the upload: commits when every byte up to the end arrived, else aborts and throws. */
  async finish(): Promise<void> {
    if (this.failure || this.ahead.size > 0) {
      this.releaseAhead();
      await this.upload.abort();
      throw this.failure ?? new SftpError(STATUS.FAILURE, 'the upload has a gap; it was not stored');
    }
    const stream = this.upload.stream;
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
    await this.upload.commit();
  }

  /** Throws the upload away (client gone): the old file stays. */
  async abort(): Promise<void> {
    this.releaseAhead();
    await this.upload.abort();
  }
}
