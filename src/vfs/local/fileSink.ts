/**
 * A Writable that writes a file in batches: chunks from the network
 * (64 KiB each) are gathered into one `writev` of about 256 KiB, so an
 * upload costs one thread-pool round trip per batch instead of one per
 * chunk. Not larger: on these VMs a 1 MiB write costs the kernel far more
 * per byte (page-cache reclaim; bench/PROFILE.md): FTP STOR took 1.7 to
 * 3.9 s of server CPU per GiB with 1 MiB batches, 0.8 to 1.1 s with 256 KiB. One batch is written while the next one fills, so reading the
 * socket and writing the file overlap; only when both are busy does the
 * stream push back. The file descriptor is closed when the stream ends or
 * is destroyed.
 */
import { close, writev } from 'node:fs';
import { Writable } from 'node:stream';

const BATCH = 256 * 1024;

type Callback = (err?: Error | null) => void;

/** Writes to `fd` from `position` (null: at the end, for O_APPEND files). */
export class FileSink extends Writable {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing = false;
  private failure: Error | null = null;
  /** A caller held back until the write in flight is done. */
  private waiting: Callback | null = null;

  constructor(
    private readonly fd: number,
    private position: number | null,
  ) {
    super({ highWaterMark: BATCH, decodeStrings: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: Callback): void {
    if (this.failure) return cb(this.failure);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH) return cb();
    if (!this.writing) {
      this.startBatch();
      return cb();
    }
    this.waiting = cb; // both buffers busy: push back until the disk catches up
  }

  override _final(cb: Callback): void {
    if (this.writing) {
      this.waiting = (err) => (err ? cb(err) : this._final(cb));
      return;
    }
    if (this.failure) return cb(this.failure);
    if (this.pendingBytes === 0) return cb();
    this.startBatch();
    this.waiting = (err) => cb(err);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    close(this.fd, () => cb(err));
  }

  private startBatch(): void {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = true;
    this.writeAll(chunks, (err) => {
      this.writing = false;
      if (err) this.failure = err;
      const waiting = this.waiting;
      this.waiting = null;
      if (!waiting) return;
      if (this.failure) return waiting(this.failure);
      if (this.pendingBytes >= BATCH) this.startBatch();
      waiting();
    });
  }

  /** writev until every byte is written (a short write is retried with the rest). */
  private writeAll(chunks: Buffer[], cb: Callback): void {
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
