/**
 * A Vfs kept entirely in memory: for tests, demos and embedded servers
 * with a handful of files. It follows the same contract as the disk
 * backend (see src/vfs/contract/): uploads become visible only on commit,
 * atomically; readers keep the content they opened; every failure is a
 * VfsError carrying a code and no path. Memory grows only with what is
 * stored and with uploads in progress (released on commit or abort).
 */
import { VfsError } from '../errors.js';
import type { ReadHandle, Upload, Vfs, VfsCapabilities, VfsStat, WriteMode } from '../types.js';
import { MemoryReadHandle, MemoryUpload } from './handles.js';
import { IdSource, lookup, lookupDir, newDir, newFile, parentOf, seedTree, segmentsOf, segmentsWithin, statOf, touch, type DirNode, type Node } from './tree.js';

/** Largest number of entries in one batch of `list`. */
const LIST_BATCH = 256;

/** Options of a MemoryVfs. */
export interface MemoryVfsOptions {
  /**
   * Turns features off to simulate a more limited backend: the operations
   * of a disabled feature throw `VfsError('unsupported')`. `symlinks` is
   * always false (a MemoryVfs has no links).
   */
  capabilities?: Partial<VfsCapabilities>;
}

/** The initial content: relative paths to file contents; a key ending in `/` is an empty directory. */
export type MemorySeed = Record<string, string | Uint8Array>;

const EMPTY: Buffer = Buffer.alloc(0);

function validOffset(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Runs a synchronous tree operation as a promise: its failure rejects, never throws. */
function settle<T>(op: () => T): Promise<T> {
  try {
    return Promise.resolve(op());
  } catch (err) {
    return Promise.reject(err instanceof VfsError ? err : new VfsError('io'));
  }
}

/** The batches of a listing snapshot (or its failure, on the first step). */
function batches(entries: readonly [string, Node][], failure: VfsError | null): AsyncIterable<VfsStat[]> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<VfsStat[]> {
      let pos = 0;
      let pending = failure;
      return {
        next: () => {
          if (pending) {
            const err = pending;
            pending = null;
            pos = entries.length;
            return Promise.reject(err);
          }
          if (pos >= entries.length) return Promise.resolve({ done: true, value: undefined });
          const batch = entries.slice(pos, pos + LIST_BATCH).map(([name, node]) => statOf(name, node));
          pos += LIST_BATCH;
          return Promise.resolve({ done: false, value: batch });
        },
        return: () => {
          pos = entries.length;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}

/** A Vfs whose files live in memory. */
export class MemoryVfs implements Vfs {
  readonly capabilities: VfsCapabilities;
  private readonly ids = new IdSource();
  private readonly root: DirNode;

  /**
   * @param seed initial files, e.g. `{ 'pub/hello.txt': 'hi\n', 'incoming/': '' }`
   * @param options see MemoryVfsOptions
   */
  constructor(seed: MemorySeed = {}, options: MemoryVfsOptions = {}) {
    this.capabilities = Object.freeze({
      setMtime: options.capabilities?.setMtime ?? true,
      append: options.capabilities?.append ?? true,
      resumeUpload: options.capabilities?.resumeUpload ?? true,
      symlinks: false,
    });
    this.root = newDir(this.ids);
    seedTree(this.root, this.ids, seed);
  }

  stat(path: string): Promise<VfsStat> {
    return settle(() => {
      const segs = segmentsOf(path);
      return statOf(segs[segs.length - 1] ?? '', lookup(this.root, segs));
    });
  }

  /**
   * The entries as they were when `list` was called, in batches of at most
   * 256. A missing path or a file fails on the first iteration.
   */
  list(path: string): AsyncIterable<VfsStat[]> {
    try {
      return batches([...lookupDir(this.root, segmentsOf(path)).entries], null);
    } catch (err) {
      return batches([], err instanceof VfsError ? err : new VfsError('io'));
    }
  }

  read(path: string, start: number): Promise<ReadHandle> {
    return settle(() => {
      const segs = segmentsOf(path);
      const node = lookup(this.root, segs);
      if (node.kind === 'dir') throw new VfsError('is-dir');
      if (!validOffset(start) || start > node.data.length) throw new VfsError('bad-offset');
      return new MemoryReadHandle(statOf(segs[segs.length - 1] ?? '', node), node.data, start);
    });
  }

  write(path: string, mode: WriteMode): Promise<Upload> {
    return settle(() => this.startUpload(path, mode));
  }

  private startUpload(path: string, mode: WriteMode): Upload {
    if (mode.kind === 'append' && !this.capabilities.append) throw new VfsError('unsupported');
    if (mode.kind === 'offset' && !this.capabilities.resumeUpload) throw new VfsError('unsupported');
    const segs = segmentsOf(path);
    const { dir, name } = parentOf(this.root, segs);
    const existing = dir.entries.get(name);
    if (existing?.kind === 'dir') throw new VfsError('is-dir');
    if (existing && mode.kind === 'create-new') throw new VfsError('exists');
    const old = existing?.data ?? EMPTY;
    let prefix = EMPTY;
    if (mode.kind === 'append') prefix = old;
    if (mode.kind === 'offset') {
      if (!validOffset(mode.offset) || mode.offset > old.length) throw new VfsError('bad-offset');
      prefix = old.subarray(0, mode.offset);
    }
    return new MemoryUpload(prefix, (data) => this.put(segs, mode, data));
  }

  /** Puts committed content under its name, replacing a file there in one step. */
  private put(segs: readonly string[], mode: WriteMode, data: Buffer): void {
    const { dir, name } = parentOf(this.root, segs);
    const existing = dir.entries.get(name);
    if (existing?.kind === 'dir') throw new VfsError('is-dir');
    if (existing && mode.kind === 'create-new') throw new VfsError('exists');
    dir.entries.set(name, newFile(this.ids, data));
    touch(dir);
  }

  mkdir(path: string): Promise<void> {
    return settle(() => this.mkdirNow(path));
  }

  rmdir(path: string): Promise<void> {
    return settle(() => this.rmdirNow(path));
  }

  remove(path: string): Promise<void> {
    return settle(() => this.removeNow(path));
  }

  rename(from: string, to: string): Promise<void> {
    return settle(() => this.renameNow(from, to));
  }

  setMtime(path: string, mtime: Date): Promise<void> {
    return settle(() => this.setMtimeNow(path, mtime));
  }

  private mkdirNow(path: string): void {
    const { dir, name } = parentOf(this.root, segmentsOf(path));
    if (dir.entries.has(name)) throw new VfsError('exists');
    dir.entries.set(name, newDir(this.ids));
    touch(dir);
  }

  private rmdirNow(path: string): void {
    const { dir, name } = parentOf(this.root, segmentsOf(path));
    const node = dir.entries.get(name);
    if (!node) throw new VfsError('not-found');
    if (node.kind !== 'dir') throw new VfsError('not-dir');
    if (node.entries.size > 0) throw new VfsError('not-empty');
    dir.entries.delete(name);
    touch(dir);
  }

  private removeNow(path: string): void {
    const { dir, name } = parentOf(this.root, segmentsOf(path));
    const node = dir.entries.get(name);
    if (!node) throw new VfsError('not-found');
    if (node.kind === 'dir') throw new VfsError('is-dir');
    dir.entries.delete(name);
    touch(dir);
  }

  /**
   * Moves a file or directory. An existing file at the target is replaced;
   * a directory may replace only an empty directory. A directory cannot
   * move below itself (`denied`), nor can the root move or be replaced.
   */
  private renameNow(from: string, to: string): void {
    const src = segmentsOf(from);
    const dst = segmentsOf(to);
    const a = parentOf(this.root, src);
    const b = parentOf(this.root, dst);
    const node = a.dir.entries.get(a.name);
    if (!node) throw new VfsError('not-found');
    if (a.dir === b.dir && a.name === b.name) return;
    if (node.kind === 'dir' && segmentsWithin(dst, src)) throw new VfsError('denied', 'cannot move a directory into itself');
    const existing = b.dir.entries.get(b.name);
    if (existing) {
      if (node.kind === 'file' && existing.kind === 'dir') throw new VfsError('is-dir');
      if (node.kind === 'dir' && existing.kind === 'file') throw new VfsError('not-dir');
      if (existing.kind === 'dir' && existing.entries.size > 0) throw new VfsError('not-empty');
    }
    a.dir.entries.delete(a.name);
    b.dir.entries.set(b.name, node);
    touch(a.dir);
    touch(b.dir);
  }

  private setMtimeNow(path: string, mtime: Date): void {
    if (!this.capabilities.setMtime) throw new VfsError('unsupported');
    const node = lookup(this.root, segmentsOf(path));
    const t = mtime.getTime();
    if (Number.isNaN(t)) throw new VfsError('io', 'invalid time');
    node.mtime = new Date(t);
  }
}
