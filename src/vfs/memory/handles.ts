/**
 * The open files of MemoryVfs: a read handle streaming a snapshot of a
 * file's content, and an upload that buffers its data privately until
 * commit hands the whole content to the tree in one synchronous step.
 */
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { VfsError } from '../errors.js';
import type { ReadHandle, Upload, VfsStat } from '../types.js';

/** Size of the chunks a read stream emits. */
const READ_CHUNK = 64 * 1024;

/** A file opened for reading: the content it had when opened, from `start`. */
export class MemoryReadHandle implements ReadHandle {
  private data: Buffer | null;
  private made: Readable | null = null;

  constructor(
    readonly stat: VfsStat,
    data: Buffer,
    private readonly start: number,
  ) {
    this.data = data;
  }

  get stream(): Readable {
    if (this.made) return this.made;
    const data = this.data ?? Buffer.alloc(0);
    this.data = null;
    let pos = this.start;
    this.made = new Readable({
      read() {
        if (pos >= data.length) {
          this.push(null);
          return;
        }
        const end = Math.min(data.length, pos + READ_CHUNK);
        // A copy: a consumer that changes its chunks in place cannot change the file.
        this.push(Buffer.from(data.subarray(pos, end)));
        pos = end;
      },
    });
    return this.made;
  }

  close(): void {
    this.data = null;
    this.made?.destroy();
  }
}

type UploadState = 'open' | 'committing' | 'done';

/**
 * An upload in progress. `prefix` is what an append or offset write keeps
 * of the old file (taken when the upload started); `apply` puts the final
 * content under the name and throws a VfsError when it cannot (the name
 * became a directory, the parent went away, create-new lost a race).
 */
export class MemoryUpload implements Upload {
  readonly stream: Writable;
  private chunks: Buffer[] = [];
  private prefix: Buffer;
  private state: UploadState = 'open';

  constructor(
    prefix: Buffer,
    private readonly apply: (data: Buffer) => void,
  ) {
    this.prefix = prefix;
    this.stream = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (this.state === 'done') return cb(new VfsError('io', 'upload already finished'));
        // A copy: the writer may reuse its buffer once the callback ran.
        this.chunks.push(Buffer.from(chunk));
        cb();
      },
    });
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new VfsError('io', 'upload already finished');
    this.state = 'committing';
    try {
      await this.drain();
      if (this.state !== 'committing') throw new VfsError('io', 'upload aborted');
      const data = Buffer.concat([this.prefix, ...this.chunks]);
      this.release();
      this.apply(data);
    } finally {
      this.state = 'done';
      this.release();
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'done') return;
    this.state = 'done';
    this.release();
    const stream = this.stream;
    if (stream.closed) return;
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.destroy();
    await closed;
  }

  /** Waits until every byte written to the stream has been taken (ending it if the writer did not). */
  private async drain(): Promise<void> {
    const stream = this.stream;
    if (stream.errored || (stream.destroyed && !stream.writableFinished)) throw new VfsError('io', 'upload stream failed');
    if (!stream.writableEnded) stream.end();
    try {
      await finished(stream, { readable: false });
    } catch {
      throw new VfsError('io', 'upload stream failed');
    }
  }

  /** Drops the buffered data (and the old content it was to be appended to). */
  private release(): void {
    this.chunks = [];
    this.prefix = EMPTY;
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
