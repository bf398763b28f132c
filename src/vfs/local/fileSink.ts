/**
 * A Writable that writes a file in large batches: chunks from the network
 * (64 KiB each) are gathered into one `writev` of about 1 MiB, so an
 * upload costs one thread-pool round trip per MiB instead of one per
 * chunk. The file descriptor is closed when the stream ends or is
 * destroyed.
 */
import { close, writev } from 'node:fs';
import { Writable } from 'node:stream';

const BATCH = 1024 * 1024;

/** Writes to `fd` from `position` (null: at the end, for O_APPEND files). */
export class FileSink extends Writable {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly fd: number,
    private position: number | null,
  ) {
    super({ highWaterMark: BATCH, decodeStrings: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BATCH) this.flush(cb);
    else cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    close(this.fd, () => cb(err));
  }

  private flush(cb: (err?: Error | null) => void): void {
    if (this.pendingBytes === 0) return cb();
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.writeAll(chunks, cb);
  }

  /** writev until every byte is written (a short write is retried with the rest). */
  private writeAll(chunks: Buffer[], cb: (err?: Error | null) => void): void {
    writev(this.fd, chunks, this.position, (err, written) => {
      if (err) return cb(err);
      if (this.position !== null) this.position += written;
      let rest = written;
      while (chunks.length > 0 && rest >= (chunks[0] as Buffer).length) rest -= (chunks.shift() as Buffer).length;
      if (chunks.length === 0) return cb();
      chunks[0] = (chunks[0] as Buffer).subarray(rest);
      this.writeAll(chunks, cb);
    });
  }
}
