/**
 * The directory-listing worker: reads directories and lstat()s their
 * entries with the synchronous calls, off the event loop, in batches. The
 * synchronous calls cost about a third of the thread-pool round trips the
 * event loop would need per entry. Each request (`open`, then `next` per
 * batch, `close`) names a listing by id, so listings of several sessions
 * interleave batch by batch.
 */
import { lstatSync, opendirSync, realpathSync, statSync, type Dir, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { TEMP_PREFIX } from './jail.js';

/** A request to the worker. */
export type ListRequest = { op: 'open'; id: number; path: string; root: string; batch: number } | { op: 'next'; id: number } | { op: 'close'; id: number };

/**
 * A batch of entries in columns, cheap to copy between threads: the names
 * (and the unique ids) travel as one string each, joined with NUL, which
 * no name contains; typed arrays copy as single blocks.
 */
export interface ListBatch {
  /** The names, joined with `\0`. */
  names: string;
  /** The number of entries. */
  count: number;
  /** 0 file, 1 dir, 2 link, 3 other. */
  types: Uint8Array;
  sizes: Float64Array;
  mtimes: Float64Array;
  modes: Uint16Array;
  /** `dev.ino` in hex per entry, joined with `\0`. */
  uniques: string;
}

/** A reply from the worker. */
export type ListReply = { id: number; batch: ListBatch | null } | { id: number; error: string };

interface Listing {
  dir: Dir;
  path: string;
  root: string;
  batch: number;
}

const listings = new Map<number, Listing>();

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

function entryStat(l: Listing, name: string): Stats | null {
  const p = l.path + sep + name; // a plain name from readdir: nothing to normalise
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st || !st.isSymbolicLink()) return st ?? null;
  try {
    const target = realpathSync(p);
    return inside(l.root, target) ? statSync(target) : null;
  } catch {
    return null; // a broken link: not listed
  }
}

function nextBatch(l: Listing): ListBatch | null {
  const names: string[] = [];
  const stats: Stats[] = [];
  while (names.length < l.batch) {
    const d = l.dir.readSync();
    if (!d) break;
    if (d.name.startsWith(TEMP_PREFIX)) continue;
    const st = entryStat(l, d.name);
    if (!st) continue;
    names.push(d.name);
    stats.push(st);
  }
  if (names.length === 0) return null;
  const n = names.length;
  const uniques = new Array<string>(n);
  const b: ListBatch = {
    names: names.join('\0'),
    count: n,
    types: new Uint8Array(n),
    sizes: new Float64Array(n),
    mtimes: new Float64Array(n),
    modes: new Uint16Array(n),
    uniques: '',
  };
  for (let i = 0; i < n; i++) {
    const st = stats[i] as Stats;
    b.types[i] = st.isDirectory() ? 1 : st.isFile() ? 0 : st.isSymbolicLink() ? 2 : 3;
    b.sizes[i] = st.isDirectory() ? 4096 : st.size;
    b.mtimes[i] = st.mtimeMs;
    b.modes[i] = st.mode & 0o7777;
    uniques[i] = `${st.dev.toString(16)}.${st.ino.toString(16)}`;
  }
  b.uniques = uniques.join('\0');
  return b;
}

function handle(msg: ListRequest): ListReply | null {
  try {
    if (msg.op === 'open') {
      listings.set(msg.id, { dir: opendirSync(msg.path, { bufferSize: 256 }), path: msg.path, root: msg.root, batch: msg.batch });
      return null;
    }
    const l = listings.get(msg.id);
    if (!l) return msg.op === 'next' ? { id: msg.id, batch: null } : null;
    if (msg.op === 'close') {
      listings.delete(msg.id);
      l.dir.closeSync();
      return null;
    }
    const batch = nextBatch(l);
    if (!batch) {
      listings.delete(msg.id);
      l.dir.closeSync();
    }
    return { id: msg.id, batch };
  } catch (err) {
    const l = listings.get(msg.id);
    listings.delete(msg.id);
    try {
      l?.dir.closeSync();
    } catch {
      // already closed
    }
    return { id: msg.id, error: (err as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

parentPort?.on('message', (msg: ListRequest) => {
  const reply = handle(msg);
  if (!reply) return;
  // The columns' memory moves to the other thread instead of being copied.
  const b = 'batch' in reply ? reply.batch : null;
  const columns = b ? [b.types.buffer, b.sizes.buffer, b.mtimes.buffer, b.modes.buffer] : [];
  parentPort?.postMessage(reply, columns as ArrayBuffer[]);
});
