/**
 * OPEN and OPENDIR: which right a request needs, and how SFTP's open flags
 * map to the Vfs's write modes. Uploads never leave half files: whatever
 * the flags, the bytes go to an upload that replaces the file only when
 * the client closes the handle after a complete transfer. An open that
 * keeps existing bytes (append, or no truncation) works on a copy, as APPE
 * and REST+STOR do, so `reput` works for every account.
 */
import type { VfsStat, WriteMode } from '../vfs/types.js';
import { VfsError } from '../vfs/errors.js';
import { denied, OPEN, SftpError, STATUS } from './attrs.js';
import type { SftpContext } from './context.js';
import { FileReader, FileWriter } from './files.js';
import { checked, resolve } from './requests.js';

/** An open directory: its entries, streamed batch by batch from the Vfs. */
export interface DirHandle {
  kind: 'dir';
  path: string;
  batches: AsyncIterator<VfsStat[]>;
  /** Entries read from the Vfs but not yet sent. */
  pending: VfsStat[];
}

/** Any open handle. */
export type Handle = { kind: 'read'; file: FileReader } | { kind: 'write'; file: FileWriter } | DirHandle;

async function existing(ctx: SftpContext, path: string): Promise<VfsStat | null> {
  try {
    return await ctx.account.vfs.stat(path);
  } catch (err) {
    if (err instanceof VfsError && err.code === 'not-found') return null;
    throw err;
  }
}

/** The write mode for an open's flags, given what exists at the path. */
function writeMode(ctx: SftpContext, path: string, flags: number, current: VfsStat | null): WriteMode {
  const access = ctx.account.access;
  const caps = ctx.account.vfs.capabilities;
  if (current?.type === 'dir') throw new SftpError(STATUS.FAILURE, 'is a directory');
  if (!current && !(flags & OPEN.CREAT)) throw new SftpError(STATUS.NO_SUCH_FILE, 'no such file');
  // The drop box: new files only.
  if (access.createOnly(path)) {
    if (current) throw denied('files here may only be created, not changed');
    return { kind: 'create-new' };
  }
  if (flags & OPEN.EXCL) return { kind: 'create-new' };
  if (flags & OPEN.APPEND) {
    if (!access.allows('append', path)) throw denied();
    if (!caps.append) throw new SftpError(STATUS.OP_UNSUPPORTED, 'appending is not supported by this storage');
    return { kind: 'append' };
  }
  if (flags & OPEN.TRUNC || !current || current.size === 0) return { kind: 'replace' };
  // Opened for writing without truncation: keep the bytes (resume).
  if (!caps.resumeUpload) throw new SftpError(STATUS.OP_UNSUPPORTED, 'resuming uploads is not supported by this storage');
  return { kind: 'offset', offset: current.size };
}

/** Opens a file for reading or writing. */
export async function openFile(ctx: SftpContext, filename: string, flags: number): Promise<Handle> {
  const vfs = ctx.account.vfs;
  if (!(flags & (OPEN.WRITE | OPEN.APPEND))) {
    const path = checked(ctx.account, filename, 'read');
    const handle = await vfs.read(path, 0);
    if (handle.stat.type !== 'file') {
      handle.close();
      throw new SftpError(STATUS.FAILURE, 'not a plain file');
    }
    return { kind: 'read', file: new FileReader(vfs, path, handle) };
  }
  const path = checked(ctx.account, filename, 'write');
  const mode = writeMode(ctx, path, flags, await existing(ctx, path));
  let upload;
  try {
    upload = await vfs.write(path, mode);
  } catch (err) {
    if (err instanceof VfsError && err.code === 'exists' && ctx.account.access.createOnly(path)) throw denied('files here may only be created, not changed');
    throw err;
  }
  const start = mode.kind === 'offset' ? mode.offset : 0;
  return { kind: 'write', file: new FileWriter(path, upload, start, mode.kind === 'append', ctx.ahead) };
}

/** Opens a directory for reading. */
export async function openDir(ctx: SftpContext, dirname: string): Promise<DirHandle> {
  const path = checked(ctx.account, dirname, 'list');
  const st = await ctx.account.vfs.stat(path);
  if (st.type !== 'dir') throw new SftpError(STATUS.FAILURE, 'not a directory');
  return { kind: 'dir', path, batches: ctx.account.vfs.list(path)[Symbol.asyncIterator](), pending: [] };
}

/** Up to `max` entries of an open directory; null at its end. */
export async function readDir(dir: DirHandle, max = 128): Promise<VfsStat[] | null> {
  while (dir.pending.length === 0) {
    const next = await dir.batches.next();
    if (next.done) return null;
    dir.pending = next.value;
  }
  return dir.pending.splice(0, max);
}

export { resolve };
