/**
 * An open local file for a download. Besides the usual stream it offers
 * `copyTo`: a copy loop that reads into two buffers leased from the
 * process's pool (bufferPool.ts) and reuses each as soon as the socket has
 * taken it. A stream allocates a new 1 MiB buffer for every chunk; on a
 * busy server that churn drives the garbage collector and can halve
 * throughput. To a plain TCP socket, `copyTo` sends with sendfile(2)
 * instead, where the native addon is built (sendfile.ts).
 */
import { closeSync, createReadStream, read } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { CopyHooks, ReadHandle, VfsStat } from '../types.js';
import { lease } from './bufferPool.js';
import { premature, sendFile } from './sendfile.js';

const CHUNK = 1024 * 1024;

/** Closes a file opened for reading: nothing to flush, so at once rather than through the thread pool. */
function closeNow(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}

function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

function writeChunk(dest: Writable, chunk: Buffer): Promise<void> {
  const p = new Promise<void>((resolve, reject) => {
    dest.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
  p.catch(() => undefined); // observed later; never an unhandled rejection meanwhile
  return p;
}

/** A local file opened for reading from `start` up to the size it had when opened. */
export class LocalReadHandle implements ReadHandle {
  private fd: number | null;
  private made: Readable | null = null;

  constructor(
    fd: number,
    readonly stat: VfsStat,
    private readonly start: number,
  ) {
    this.fd = fd;
  }

  /** The content as a stream (it then owns the file descriptor). */
  get stream(): Readable {
    if (this.made) return this.made;
    const fd = this.take();
    const size = this.stat.size;
    if (fd === null || this.start >= size) {
      if (fd !== null) closeNow(fd);
      this.made = Readable.from([]);
    } else {
      // `end` stops at the size seen at open, without one more read to find EOF.
      const highWaterMark = Math.min(CHUNK, Math.max(16384, size - this.start));
      this.made = createReadStream('', { fd, start: this.start, end: size - 1, highWaterMark });
    }
    return this.made;
  }

  async copyTo(dest: Writable, hooks: CopyHooks): Promise<void> {
    const fd = this.take();
    if (fd === null) throw new Error('file already consumed');
    try {
      if (await sendFile(dest, fd, this.start, this.stat.size, hooks)) return;
      await this.copyLoop(fd, dest, hooks);
    } finally {
      closeNow(fd);
    }
  }

  /** Reads into leased buffers and writes them out, two in flight. */
  private async copyLoop(fd: number, dest: Writable, hooks: CopyHooks): Promise<void> {
    let cancelled = false;
    const off = hooks.onCancel(() => {
      cancelled = true;
      dest.destroy();
    });
    const end = this.stat.size;
    const buffers = lease(end - this.start);
    let clean = false;
    try {
      const first = buffers.buffers[0] as Buffer;
      const bufs = [first, buffers.buffers[1] ?? null];
      const size = first.length;
      const inFlight: (Promise<void> | null)[] = [null, null];
      let pos = this.start;
      let i = 0;
      while (pos < end) {
        await inFlight[i]; // this buffer is free again once the socket took it
        if (cancelled) throw premature();
        const buf = (bufs[i] ?? bufs[0]) as Buffer;
        const n = await readAt(fd, buf, Math.min(size, end - pos), pos);
        if (n === 0) break; // the file shrank meanwhile
        pos += n;
        hooks.onChunk(n);
        inFlight[i] = writeChunk(dest, n === buf.length ? buf : buf.subarray(0, n));
        if (bufs[1]) i ^= 1;
      }
      await Promise.all(inFlight.filter((p): p is Promise<void> => p !== null));
      clean = true; // every write has completed: the buffers are free
      dest.end();
      await finished(dest, { readable: false });
    } finally {
      // After a failure a write may still refer to a buffer: those are left to the collector.
      buffers.release(clean);
      off();
    }
  }

  close(): void {
    const fd = this.take();
    if (fd !== null) closeNow(fd);
    this.made?.destroy();
  }

  private take(): number | null {
    const fd = this.fd;
    this.fd = null;
    return fd;
  }
}
