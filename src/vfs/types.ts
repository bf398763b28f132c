/**
 * The virtual file system a session works on. Paths are virtual, absolute
 * and normalised (`/`, `/pub/file.iso`), as `resolveVirtualPath` returns
 * them; an implementation maps them inside its own root and must never
 * reach outside it. Small enough that an object store can implement it.
 */
import type { Readable, Writable } from 'node:stream';
import type { EntryFacts } from '../protocol/listing/facts.js';

/** One entry's metadata. */
export type VfsStat = EntryFacts;

/** How a write stream opens its target. */
export type WriteMode =
  /** Create or replace the file. */
  | { kind: 'replace' }
  /** Create a file that must not exist yet. */
  | { kind: 'create-new' }
  /** Append to the end (create if missing). */
  | { kind: 'append' }
  /** Keep the first `offset` bytes and write from there (REST + STOR). */
  | { kind: 'offset'; offset: number };

/** What a fast copy reports and listens to. */
export interface CopyHooks {
  /** Called with the size of each chunk handed to the destination. */
  onChunk(n: number): void;
  /** Registers a cancellation callback; returns its remover. */
  onCancel(fn: () => void): () => void;
}

/** An open file: its metadata, and its content from the requested offset. */
export interface ReadHandle {
  readonly stat: VfsStat;
  /** The content as a stream. */
  readonly stream: Readable;
  /** Optional fast path: copies the content into `dest` and ends it. */
  copyTo?(dest: Writable, hooks: CopyHooks): Promise<void>;
  /** Releases the file when the content is not wanted after all. */
  close(): void;
}

/** A pending upload: write the data into `stream`, then commit or abort. */
export interface Upload {
  stream: Writable;
  /** Makes the data visible under the final name (atomic where possible). */
  commit(): Promise<void>;
  /** Throws the data away; the previous file, if any, stays as it was. */
  abort(): Promise<void>;
}

/**
 * Optional features a backend declares. The FTP command gate and FEAT read
 * them: a backend without `append` gets APPE refused and not advertised.
 * An operation a backend does not offer throws `VfsError('unsupported')`.
 */
export interface VfsCapabilities {
  /** setMtime works (MFMT, SFTP setstat). */
  setMtime: boolean;
  /** write(path, { kind: 'append' }) works (APPE). */
  append: boolean;
  /** write(path, { kind: 'offset' }) works (REST + STOR, SFTP offset writes). */
  resumeUpload: boolean;
  /** Paths may be symbolic links (and the backend keeps them inside the root). */
  symlinks: boolean;
}

/** The file system interface. All errors are `VfsError`s. */
export interface Vfs {
  readonly capabilities: VfsCapabilities;
  /** Metadata of a path (symlinks inside the root are followed). */
  stat(path: string): Promise<VfsStat>;
  /** The entries of a directory, in batches, streamed. */
  list(path: string): AsyncIterable<VfsStat[]>;
  /** Opens a file for reading from `start`; gives its metadata too (one lookup, not two). */
  read(path: string, start: number): Promise<ReadHandle>;
  /** Starts an upload. */
  write(path: string, mode: WriteMode): Promise<Upload>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  setMtime(path: string, mtime: Date): Promise<void>;
  /**
   * Removes what uploads interrupted by a crash of this server left behind
   * (temporaries, unfinished multipart uploads) that are older than
   * `before`, in the virtual directory `dir` and below (default `/`);
   * resolves with how many. Only this server's own leftovers: another live
   * server sharing the storage keeps its uploads.
   */
  recover?(before: Date, dir?: string): Promise<number>;
  /**
   * Space of the file system holding `path`, where the backend knows it
   * (SFTP's statvfs@openssh.com, `df` in OpenSSH's sftp); absent otherwise.
   */
  space?(path: string): Promise<VfsSpace>;
  /** Releases what the backend holds (worker threads, clients). */
  close?(): Promise<void>;
}

/** What {@link Vfs.space} tells: sizes in blocks of `blockSize` bytes, as statvfs(3) gives them. */
export interface VfsSpace {
  blockSize: number;
  /** Blocks in all. */
  blocks: number;
  /** Free blocks. */
  free: number;
  /** Free blocks an unprivileged writer may use. */
  available: number;
  /** File nodes in all, and free. */
  files: number;
  freeFiles: number;
  /** Longest name. */
  nameMax: number;
  /** True when the file system is mounted read-only. */
  readOnly: boolean;
}
