/**
 * Wharf's native addon (native/, built by `npm ci` where a compiler is
 * present; Linux only): zero-copy sends (sendfile.ts), opens that skip
 * the thread pool when they cannot block (`openCached`), and directory
 * listings a batch per call (`listOpen`/`listNext`, in the listing
 * worker). Without it, or with `WHARF_NATIVE=0`, everything runs through
 * Node's own calls.
 */
import { createRequire } from 'node:module';

/** The addon's functions. */
export interface NativeAddon {
  /** The outcome at once when the send is over (a small file); else a token, and `done` is called later. */
  start(socketFd: number, fileFd: number, offset: number, length: number, budgetMs: number, done: (errno: number, sent: number) => void): [errno: number, sent: number] | number;
  cork(socketFd: number, on: boolean): boolean;
  cancel(token: number): boolean;
  /** A read-only descriptor, or -errno: -EAGAIN when the path is not all in the kernel's cache. */
  openCached(path: string): number;
  /** An open directory, or -errno. Names starting with `skipPrefix` are never listed. */
  listOpen(path: string, skipPrefix: string): NativeDir | number;
  /** Up to `max` entries (see native/list.c), null at the end, or -errno. */
  listNext(dir: NativeDir, max: number): NativeListBatch | null | number;
  /** Closes the directory now (the garbage collector would, later). */
  listClose(dir: NativeDir): void;
}

/** A directory the addon holds open. */
export type NativeDir = { readonly __nativeDir: unique symbol };

/**
 * A batch of directory entries in columns, cheap to copy between threads:
 * the names (and the unique ids) travel as one string each, joined with
 * NUL, which no name contains; typed arrays copy as single blocks. The
 * listing worker's batches (ListBatch) have this shape.
 */
export interface ListColumns {
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

/**
 * A batch from the addon, where type 2 marks the `deferred` entries left
 * to the caller: symlinks, and names that are not valid UTF-8. Their other
 * columns are 0 and their uniques empty.
 */
export interface NativeListBatch extends ListColumns {
  deferred: number;
}

function load(): NativeAddon | null {
  if (process.platform !== 'linux' || process.env.WHARF_NATIVE === '0') return null;
  try {
    // dist/src/vfs/local/ -> the package root, where node-gyp builds.
    return createRequire(import.meta.url)('../../../../build/Release/wharf_native.node') as NativeAddon;
  } catch {
    return null;
  }
}

/** The addon, or null where it is not built or turned off. */
export const nativeAddon = load();
