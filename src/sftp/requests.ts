/**
 * The SFTP requests on paths (no handle): stat, setstat, remove, mkdir,
 * rmdir, rename, realpath and the extensions. Each resolves the path inside
 * the account's root, checks the right the account needs there, and acts
 * on the Vfs: the same rules as FTP's gate.
 */
import type { Attributes } from 'ssh2';
import type { Permission } from '../config/schema.js';
import { isWithin, parentOf, resolveVirtualPath } from '../vfs/path.js';
import { VfsError } from '../vfs/errors.js';
import type { Account } from '../auth/account.js';
import { denied, SftpError, STATUS, toAttrs } from './attrs.js';
import type { SftpContext } from './context.js';

/** A path argument resolved inside the root (SFTP paths are relative to `/`, the account's home). */
export function resolve(path: string): string {
  return resolveVirtualPath('/', path);
}

/** Resolves `path` and checks `perm` on it. */
export function checked(account: Account, path: string, perm: Permission): string {
  const p = resolve(path);
  if (!account.access.allows(perm, p)) throw denied();
  return p;
}

/** Metadata may be shown where the account may read or list the entry, or list its directory. */
export function visible(account: Account, path: string): string {
  const p = resolve(path);
  const a = account.access;
  if (!a.allows('read', p) && !a.allows('list', p) && !a.allows('list', parentOf(p))) throw denied();
  return p;
}

/** STAT and LSTAT (links inside the root are followed: the Vfs shows no links). */
export async function stat(ctx: SftpContext, path: string): Promise<Attributes> {
  return toAttrs(await ctx.account.vfs.stat(visible(ctx.account, path)));
}

/** SETSTAT: the modification time may change; permission bits and owners are ignored; a size change is refused. */
export async function setstat(ctx: SftpContext, path: string, attrs: Attributes): Promise<void> {
  const p = checked(ctx.account, path, 'write');
  if (ctx.account.access.createOnly(p)) throw denied();
  const st = await ctx.account.vfs.stat(p);
  if (attrs.size !== undefined && attrs.size !== st.size) throw new SftpError(STATUS.OP_UNSUPPORTED, 'changing the size is not supported');
  if (attrs.mtime !== undefined) await setMtime(ctx, p, attrs.mtime);
}

/** Sets a modification time (seconds since the epoch) where the backend can. */
export async function setMtime(ctx: SftpContext, path: string, seconds: number | Date): Promise<void> {
  const vfs = ctx.account.vfs;
  if (!vfs.capabilities.setMtime) throw new SftpError(STATUS.OP_UNSUPPORTED, 'setting times is not supported by this storage');
  await vfs.setMtime(path, seconds instanceof Date ? seconds : new Date(seconds * 1000));
}

export async function remove(ctx: SftpContext, path: string): Promise<void> {
  const p = checked(ctx.account, path, 'delete');
  await ctx.account.vfs.remove(p);
  ctx.emitFile('delete', p);
}

export async function mkdir(ctx: SftpContext, path: string): Promise<void> {
  const p = checked(ctx.account, path, 'mkdir');
  await ctx.account.vfs.mkdir(p);
  ctx.emitFile('mkdir', p);
}

export async function rmdir(ctx: SftpContext, path: string): Promise<void> {
  const p = checked(ctx.account, path, 'rmdir');
  if (p === '/') throw denied('cannot remove the root');
  await ctx.account.vfs.rmdir(p);
  ctx.emitFile('rmdir', p);
}

/**
 * RENAME as SFTP v3 and OpenSSH define it: refused when the target exists;
 * `posix-rename@openssh.com` (`replace`) replaces it.
 */
export async function rename(ctx: SftpContext, from: string, to: string, replace: boolean): Promise<void> {
  const a = checked(ctx.account, from, 'rename');
  const b = checked(ctx.account, to, 'rename');
  if (a === '/' || b === '/') throw denied('cannot rename the root');
  if (isWithin(b, a) && a !== b) throw new SftpError(STATUS.FAILURE, 'cannot move a directory into itself');
  const vfs = ctx.account.vfs;
  if (!replace) {
    const exists = await vfs.stat(b).then(
      () => true,
      (err: unknown) => !(err instanceof VfsError && err.code === 'not-found'),
    );
    if (exists) throw new SftpError(STATUS.FAILURE, 'file exists');
  }
  await vfs.rename(a, b);
  ctx.emitRename(a, b);
}

/** REALPATH: the canonical path, always inside the root. */
export function realpath(path: string): string {
  return resolve(path === '' ? '.' : path);
}
