/**
 * The in-memory tree behind MemoryVfs: directory and file nodes, and the
 * walks from a virtual path to a node. File content is never changed in
 * place: a commit puts a new node (with a new buffer) under the name, so a
 * reader that holds the old buffer keeps seeing the old content.
 */
import { VfsError } from '../errors.js';
import type { VfsStat } from '../types.js';

/** A regular file: its whole content in one immutable buffer. */
export interface FileNode {
  kind: 'file';
  /** Identity for `unique`; a replaced file gets a new one, a renamed one keeps it. */
  readonly id: number;
  readonly data: Buffer;
  mtime: Date;
}

/** A directory: its entries by name, in creation order. */
export interface DirNode {
  kind: 'dir';
  readonly id: number;
  readonly entries: Map<string, Node>;
  mtime: Date;
}

/** A node of the tree. */
export type Node = FileNode | DirNode;

/** Permission bits reported for files and directories. */
export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;
/** Size reported for a directory, as a disk directory shows. */
export const DIR_SIZE = 4096;

/**
 * The segments of a virtual path. Paths arrive normalised; as a defence,
 * empty and `.` segments are dropped and `..` never climbs above the root.
 */
export function segmentsOf(path: string): string[] {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out;
}

/** True when `inner` is `outer` or below it (both as segments). */
export function segmentsWithin(inner: readonly string[], outer: readonly string[]): boolean {
  return inner.length >= outer.length && outer.every((s, i) => inner[i] === s);
}

/** Hands out node identities. */
export class IdSource {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

export function newDir(ids: IdSource, mtime = new Date()): DirNode {
  return { kind: 'dir', id: ids.take(), entries: new Map(), mtime };
}

export function newFile(ids: IdSource, data: Buffer, mtime = new Date()): FileNode {
  return { kind: 'file', id: ids.take(), data, mtime };
}

/**
 * The node at `segs`. A missing entry is `not-found`; a file where a
 * directory is needed on the way is `not-dir`.
 */
export function lookup(root: DirNode, segs: readonly string[]): Node {
  let node: Node = root;
  for (const seg of segs) {
    if (node.kind !== 'dir') throw new VfsError('not-dir');
    const child: Node | undefined = node.entries.get(seg);
    if (!child) throw new VfsError('not-found');
    node = child;
  }
  return node;
}

/** The directory at `segs` (`not-dir` when it is a file). */
export function lookupDir(root: DirNode, segs: readonly string[]): DirNode {
  const node = lookup(root, segs);
  if (node.kind !== 'dir') throw new VfsError('not-dir');
  return node;
}

/**
 * The existing parent directory of `segs` and the last name, for an
 * operation that creates, replaces or removes an entry. The root itself
 * is never such an entry: `denied`.
 */
export function parentOf(root: DirNode, segs: readonly string[]): { dir: DirNode; name: string } {
  const name = segs[segs.length - 1];
  if (name === undefined) throw new VfsError('denied', 'not allowed on the root');
  return { dir: lookupDir(root, segs.slice(0, -1)), name };
}

/** Marks a directory as changed (its entries were added, removed or renamed). */
export function touch(dir: DirNode): void {
  dir.mtime = new Date();
}

/** The metadata of a node, shown under `name`. */
export function statOf(name: string, node: Node): VfsStat {
  return {
    name,
    type: node.kind,
    size: node.kind === 'file' ? node.data.length : DIR_SIZE,
    mtime: new Date(node.mtime.getTime()),
    mode: node.kind === 'file' ? FILE_MODE : DIR_MODE,
    unique: `mem.${node.id.toString(16)}`,
  };
}

/** Copies seed content into a buffer the tree owns. */
export function ownBuffer(content: string | Uint8Array): Buffer {
  // Buffer.from of a Uint8Array copies its bytes: later changes by the caller do not leak in.
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
}

/**
 * Builds the tree of a seed: keys are relative paths (`pub/hello.txt`),
 * parents are created implicitly, a key ending in `/` is an empty
 * directory. A key that needs a file to be a directory (or the reverse)
 * is refused.
 */
export function seedTree(root: DirNode, ids: IdSource, seed: Record<string, string | Uint8Array>): void {
  for (const [key, content] of Object.entries(seed)) {
    const segs = segmentsOf(key);
    const isDir = key.endsWith('/');
    let dir = root;
    const parents = isDir ? segs : segs.slice(0, -1);
    for (const seg of parents) {
      let child = dir.entries.get(seg);
      if (!child) {
        child = newDir(ids);
        dir.entries.set(seg, child);
      }
      if (child.kind !== 'dir') throw new VfsError('not-dir', 'seed: a file is used as a directory');
      dir = child;
    }
    if (isDir) continue;
    const name = segs[segs.length - 1];
    if (name === undefined) throw new VfsError('denied', 'seed: the root cannot be a file');
    if (dir.entries.get(name)?.kind === 'dir') throw new VfsError('is-dir', 'seed: a directory is used as a file');
    dir.entries.set(name, newFile(ids, ownBuffer(content)));
  }
}
