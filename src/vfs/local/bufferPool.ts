/**
 * Read buffers for downloads, shared by every transfer of the process.
 * A buffer fresh from the allocator is fresh memory the kernel must fault
 * in page by page on first touch; with 100 downloads at once that was 200
 * MiB of new pages for each round of 10 MiB files. Buffers come back here
 * when their transfer ends cleanly and are reused; a bounded number is
 * kept, the rest left to the garbage collector.
 *
 * The chunk size follows the load: 1 MiB while few downloads run (fewer
 * reads and writes per byte), 256 KiB once many do (what all of them hold
 * at once stays within the CPU caches' reach and the process's memory
 * within bounds: 100 downloads hold 50 MiB instead of 200).
 */

/** Chunk size while few downloads run. */
export const LARGE = 1024 * 1024;
/** Chunk size when many run. */
export const SMALL = 256 * 1024;
/** Downloads running at once above which chunks are SMALL. */
const BUSY = 8;
/** Free bytes kept per size. */
const KEEP_BYTES = 16 * 1024 * 1024;

class Pool {
  private readonly free: Buffer[] = [];

  constructor(readonly size: number) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(buf: Buffer): void {
    if (buf.length === this.size && (this.free.length + 1) * this.size <= KEEP_BYTES) this.free.push(buf);
  }

  get kept(): number {
    return this.free.length;
  }
}

const pools = { [LARGE]: new Pool(LARGE), [SMALL]: new Pool(SMALL) } as Record<number, Pool>;
let running = 0;

/** The buffers of one download; `release` gives them back once nothing refers to them any more. */
export interface Lease {
  /** One or two buffers of the same size (two when the file needs more than one chunk). */
  readonly buffers: Buffer[];
  /** Returns the buffers to the pool (only when no write still uses them). */
  release(reuse: boolean): void;
}

/** Buffers for a download of `bytes` bytes. Small files get a private buffer of their own size. */
export function lease(bytes: number): Lease {
  running++;
  const size = running > BUSY ? SMALL : LARGE;
  let done = false;
  if (bytes < size) {
    const buffers = [Buffer.allocUnsafe(Math.max(1, bytes))];
    return { buffers, release: () => (done ? undefined : ((done = true), running--)) };
  }
  const pool = pools[size] as Pool;
  const buffers = bytes > size ? [pool.take(), pool.take()] : [pool.take()];
  return {
    buffers,
    release(reuse) {
      if (done) return;
      done = true;
      running--;
      if (reuse) for (const b of buffers) pool.give(b);
    },
  };
}

/** Buffers kept per size (for tests). */
export function keptBuffers(): { large: number; small: number } {
  return { large: (pools[LARGE] as Pool).kept, small: (pools[SMALL] as Pool).kept };
}
