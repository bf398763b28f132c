/**
 * The event-loop side of the listing worker: one worker thread per server,
 * started on first use, serving listings as async iterables of batches.
 * The worker reads one batch ahead, so it works while the caller formats
 * and sends the previous one; at most two batches per listing are held.
 */
import { Worker } from 'node:worker_threads';
import { fromErrno } from '../errors.js';
import type { VfsStat } from '../types.js';
import type { ListBatch, ListReply, ListRequest } from './listWorker.js';

const TYPES: VfsStat['type'][] = ['file', 'dir', 'link', 'other'];
const BATCH = 1024;

/** Lists directories in a worker thread. */
export class DirLister {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ListReply) => void>();

  private get thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./listWorker.js', import.meta.url));
    w.unref();
    w.on('message', (r: ListReply) => {
      const fn = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      fn?.(r);
    });
    w.on('error', (err) => this.fail(err));
    w.on('exit', () => this.fail(new Error('listing worker exited')));
    this.worker = w;
    return w;
  }

  private fail(err: Error): void {
    this.worker = null;
    for (const [id, fn] of this.waiting) fn({ id, error: (err as NodeJS.ErrnoException).code ?? 'EIO' });
    this.waiting.clear();
  }

  private request(msg: ListRequest): Promise<ListReply> {
    return new Promise((resolve) => {
      this.waiting.set(msg.id, resolve);
      this.thread.postMessage(msg);
    });
  }

  /** The entries of the host directory `path` (already checked to be inside `root`). */
  async *list(path: string, root: string): AsyncIterable<VfsStat[]> {
    const id = this.nextId++;
    this.thread.postMessage({ op: 'open', id, path, root, batch: BATCH } satisfies ListRequest);
    let pending = this.request({ op: 'next', id });
    let done = false;
    try {
      for (;;) {
        const r = await pending;
        if ('error' in r) throw fromErrno(Object.assign(new Error(r.error), { code: r.error }));
        if (!r.batch) {
          done = true;
          return;
        }
        pending = this.request({ op: 'next', id }); // read ahead
        yield toStats(r.batch);
      }
    } finally {
      if (!done && this.worker) {
        // Stopped early (client gone, ABOR): let the worker drop the listing.
        void pending.then(() => this.worker?.postMessage({ op: 'close', id } satisfies ListRequest));
      }
    }
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

function toStats(b: ListBatch): VfsStat[] {
  const names = b.names.split('\0');
  const uniques = b.uniques.split('\0');
  const out = new Array<VfsStat>(b.count);
  for (let i = 0; i < b.count; i++) {
    out[i] = {
      name: names[i] as string,
      type: TYPES[b.types[i] as number] as VfsStat['type'],
      size: b.sizes[i] as number,
      mtime: new Date(b.mtimes[i] as number),
      mode: b.modes[i] as number,
      unique: uniques[i],
    };
  }
  return out;
}
