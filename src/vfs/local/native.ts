/**
 * Wharf's native addon (native/, built by `npm ci` where a compiler is
 * present; Linux only): zero-copy sends (sendfile.ts) and opens that skip
 * the thread pool when they cannot block (`openCached`). Without it, or
 * with `WHARF_NATIVE=0`, everything runs through Node's own calls.
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
