/**
 * The directory-listing worker: reads directories and lstat()s their
 * entries with the synchronous calls, off the event loop, in batches. The
 * synchronous calls cost about a third of the thread-pool round trips the
 * event loop would need per entry. Where the native addon loads, a batch
 * is one call to it (native/list.c: readdir and fstatat in C, the columns
 * made there), and only symlinks and names that are not valid UTF-8 come
 * back here to be resolved as below. Each request (`open`, then `next` per
 * batch, `close`) names a listing by id, so listings of several sessions
 * interleave batch by batch.
 */
import { lstatSync, opendirSync, realpathSync, statSync, type Dir, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { parentPort } from 'node:worker_threads';
import { TEMP_PREFIX } from './jail.js';
import { nativeAddon, type ListColumns, type NativeDir, type NativeListBatch } from './native.js';

/** The addon's batch listing, when the addon loads here (and is new enough to have it). */
const native = typeof nativeAddon?.listNext === 'function' ? nativeAddon : null;

/** A request to the worker. */
export type ListRequest = { op: 'open'; id: number; path: string; root: string; batch: number } | { op: 'next'; id: number } | { op: 'close'; id: number };

/** A batch of entries (the addon's column layout, see native.ts). */
export type ListBatch = ListColumns;

/** A reply from the worker. */
export type ListReply = { id: number; batch: ListBatch | null } | { id: number; error: string };

interface Listing {
  /** Read by Node's calls, or by the addon. */
  dir: { js: Dir } | { native: NativeDir };
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

/** An error as Node's calls throw it, from the addon's -errno. */
function errnoError(negErrno: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(negErrno);
  return Object.assign(new Error(code), { code });
}

function openListing(path: string, root: string, batch: number): Listing {
  if (!native) return { dir: { js: opendirSync(path, { bufferSize: 256 }) }, path, root, batch };
  const dir = native.listOpen(path, TEMP_PREFIX);
  if (typeof dir === 'number') throw errnoError(dir);
  return { dir: { native: dir }, path, root, batch };
}

function closeListing(l: Listing): void {
  if ('js' in l.dir) l.dir.js.closeSync();
  else native?.listClose(l.dir.native);
}

/** Empty columns for `n` entries. */
function columns(n: number): ListBatch {
  return { names: '', count: n, types: new Uint8Array(n), sizes: new Float64Array(n), mtimes: new Float64Array(n), modes: new Uint16Array(n), uniques: '' };
}

/** Fills row `i` of `b` from `st`; returns the entry's unique id. */
function put(b: ListBatch, i: number, st: Stats): string {
  b.types[i] = st.isDirectory() ? 1 : st.isFile() ? 0 : st.isSymbolicLink() ? 2 : 3;
  b.sizes[i] = st.isDirectory() ? 4096 : st.size;
  b.mtimes[i] = st.mtimeMs;
  b.modes[i] = st.mode & 0o7777;
  return `${st.dev.toString(16)}.${st.ino.toString(16)}`;
}

function jsBatch(l: Listing, dir: Dir): ListBatch | null {
  const names: string[] = [];
  const stats: Stats[] = [];
  while (names.length < l.batch) {
    const d = dir.readSync();
    if (!d) break;
    if (d.name.startsWith(TEMP_PREFIX)) continue;
    const st = entryStat(l, d.name);
    if (!st) continue;
    names.push(d.name);
    stats.push(st);
  }
  if (names.length === 0) return null;
  const b = columns(names.length);
  b.names = names.join('\0');
  b.uniques = stats.map((st, i) => put(b, i, st)).join('\0');
  return b;
}

function nativeBatch(l: Listing, dir: NativeDir): ListBatch | null {
  for (;;) {
    const r = native?.listNext(dir, l.batch) ?? null;
    if (typeof r === 'number') throw errnoError(r);
    if (!r) return null;
    const b = r.deferred === 0 ? r : resolveDeferred(l, r);
    if (b.count > 0) return b; // else every entry was a broken or escaping link: read on
  }
}

/** The addon's batch with the entries it left here (type 2) resolved as jsBatch does, those not listed dropped. */
function resolveDeferred(l: Listing, r: NativeListBatch): ListBatch {
  const names = r.names.split('\0');
  const uniques = r.uniques.split('\0');
  const rows: { i: number; st: Stats | null }[] = [];
  for (let i = 0; i < r.count; i++) {
    if (r.types[i] !== 2) rows.push({ i, st: null });
    else {
      const st = entryStat(l, names[i] as string);
      if (st) rows.push({ i, st });
    }
  }
  const b = columns(rows.length);
  const keptNames = new Array<string>(rows.length);
  const keptUniques = new Array<string>(rows.length);
  rows.forEach(({ i, st }, j) => {
    keptNames[j] = names[i] as string;
    if (st) {
      keptUniques[j] = put(b, j, st);
      return;
    }
    b.types[j] = r.types[i] as number;
    b.sizes[j] = r.sizes[i] as number;
    b.mtimes[j] = r.mtimes[i] as number;
    b.modes[j] = r.modes[i] as number;
    keptUniques[j] = uniques[i] as string;
  });
  b.names = keptNames.join('\0');
  b.uniques = keptUniques.join('\0');
  return b;
}

function nextBatch(l: Listing): ListBatch | null {
  return 'js' in l.dir ? jsBatch(l, l.dir.js) : nativeBatch(l, l.dir.native);
}

function handle(msg: ListRequest): ListReply | null {
  try {
    if (msg.op === 'open') {
      listings.set(msg.id, openListing(msg.path, msg.root, msg.batch));
      return null;
    }
    const l = listings.get(msg.id);
    if (!l) return msg.op === 'next' ? { id: msg.id, batch: null } : null;
    if (msg.op === 'close') {
      listings.delete(msg.id);
      closeListing(l);
      return null;
    }
    const batch = nextBatch(l);
    if (!batch) {
      listings.delete(msg.id);
      closeListing(l);
    }
    return { id: msg.id, batch };
  } catch (err) {
    const l = listings.get(msg.id);
    listings.delete(msg.id);
    try {
      if (l) closeListing(l);
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
  const transfer = b ? [b.types.buffer, b.sizes.buffer, b.mtimes.buffer, b.modes.buffer] : [];
  parentPort?.postMessage(reply, transfer as ArrayBuffer[]);
});
