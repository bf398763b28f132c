/**
 * `wharf/vfs`: everything needed to write, test and plug in a storage
 * backend for the Wharf server.
 *
 * - the Vfs interface and its types (what a backend implements),
 * - VfsError and its codes (how a backend fails),
 * - the virtual path helpers (what paths a backend receives),
 * - MemoryVfs (a complete backend kept in memory),
 * - S3Vfs (roots on S3-compatible object storage),
 * - vfsContractSuite (the `node:test` suite every backend must pass).
 *
 * @module
 */

/** The backend interface and the values it exchanges with the server. */
export type {
  /** The file system interface a backend implements. */
  Vfs,
  /** Optional features a backend declares (append, offset writes, setMtime, symlinks). */
  VfsCapabilities,
  /** One entry's metadata, as stat and list return it. */
  VfsStat,
  /** The space of the storage (statvfs), where a backend knows it. */
  VfsSpace,
  /** How an upload opens its target: replace, create-new, append or offset. */
  WriteMode,
  /** An open file for a download: its metadata and content stream. */
  ReadHandle,
  /** A pending upload: a stream, then commit or abort. */
  Upload,
  /** Progress and cancellation hooks of ReadHandle.copyTo. */
  CopyHooks,
} from './types.js';

/** The error every Vfs operation fails with, and its stable codes. */
export {
  /** A file system failure with a stable code, safe to describe to a client. */
  VfsError,
  /** Maps a Node errno error (ENOENT, EEXIST...) to a VfsError. */
  fromErrno,
  /** A VfsError whose message is written for the client and shown as it is (e.g. how far a rename got). */
  VfsNoticeError,
} from './errors.js';
/** Stable kinds of file system failure ('not-found', 'exists', ...). */
export type { VfsErrorCode } from './errors.js';

/** Virtual path handling: what the server does to a client's path before a backend sees it. */
export {
  /** Resolves a client path against a virtual cwd; never climbs above `/`. */
  resolveVirtualPath,
  /** Thrown by resolveVirtualPath for control characters in a path. */
  BadPathError,
  /** The parent directory of a virtual path (`/` for `/`). */
  parentOf,
  /** The last segment of a virtual path (`''` for `/`). */
  baseName,
  /** Joins a virtual directory and a plain name. */
  joinPath,
  /** True when a virtual path is a directory itself or below it. */
  isWithin,
} from './path.js';

/** A complete backend kept in memory. */
export {
  /** A Vfs whose files live in memory; `new MemoryVfs(seed?, options?)`. */
  MemoryVfs,
} from './memory/memoryVfs.js';
/** Options and seed of a MemoryVfs. */
export type {
  /** `{ capabilities?: Partial<VfsCapabilities> }`: turn features off to simulate a smaller backend. */
  MemoryVfsOptions,
  /** Initial content: relative paths to contents; a key ending in `/` is an empty directory. */
  MemorySeed,
} from './memory/memoryVfs.js';

/** A backend on S3-compatible object storage. */
export {
  /** A Vfs on `s3://BUCKET/PREFIX`: `S3Vfs.fromUrl(url, { settings })` or `new S3Vfs({ bucket, prefix }, options)`. */
  S3Vfs,
} from './s3/s3Vfs.js';
/** Options of an S3Vfs. */
export type {
  /** How to reach the store, or a shared client; tuning; the host tag of the upload registry. */
  S3VfsOptions,
} from './s3/s3Vfs.js';
export type {
  /** Endpoint, region, path style, credentials, retries and timeouts of the S3 client. */
  S3Settings,
} from './s3/client.js';
export type {
  /** Part size, parts in flight, copy thresholds, rename concurrency. */
  S3Tuning,
} from './s3/context.js';
export type {
  /** A parsed `s3://BUCKET/PREFIX`: the bucket and the key prefix. */
  S3Location,
} from './s3/location.js';

/** The contract suite every backend must pass. */
export {
  /** Registers the contract tests (node:test) for one backend. */
  vfsContractSuite,
  /** Asserts that an error is a VfsError safe to show a client (known code, no host path). */
  assertSafeError,
  /** Every code a VfsError may carry. */
  VFS_ERROR_CODES,
  /** The content a ContractTarget's outside `secret.txt` must hold. */
  OUTSIDE_SECRET,
} from './contract/index.js';
/** Types of the contract suite. */
export type {
  /** One fresh backend under test, with its clean-up and optional symlink maker. */
  ContractTarget,
  /** Tuning of the suite (big directory size, per-test timeout). */
  VfsContractOptions,
  /** What each contract test receives. */
  CaseContext,
  /** One contract test: a title and a body taking a CaseContext. */
  ContractCase,
} from './contract/index.js';
