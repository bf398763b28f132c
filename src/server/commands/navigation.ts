/**
 * Directories and file management: PWD CWD CDUP MKD RMD DELE RNFR RNTO
 * SIZE MDTM MFMT, and the X-variants of RFC 775.
 */
import { quotePath, reply, type Reply } from '../../protocol/reply.js';
import { formatTimeVal, parseTimeVal } from '../../protocol/listing/facts.js';
import { FtpReplyError } from '../../errors/index.js';
import type { AuthedContext, CommandSpec, PathSpec } from '../session/types.js';
import { userRef } from '../session/ref.js';

function pwd({ session }: AuthedContext): Reply {
  return reply(257, `${quotePath(session.cwd)} is the current directory.`);
}

async function cwd(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  const st = await ctx.vfs.stat(path);
  if (st.type !== 'dir') throw new FtpReplyError(550, 'Failed to change directory: not a directory.');
  ctx.session.cwd = path;
  const message = ctx.account.access.allows('list', path) ? await ctx.session.server.messages.get(ctx.vfs, path) : [];
  return reply(250, [...message, 'Directory successfully changed.']);
}

async function mkd(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  await ctx.vfs.mkdir(path);
  ctx.session.server.core.events.emit('mkdir', { ...userRef(ctx.session), path });
  return reply(257, `${quotePath(path)} created.`);
}

async function rmd(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  if (path === '/') throw new FtpReplyError(550, 'Permission denied: cannot remove the root.');
  await ctx.vfs.rmdir(path);
  ctx.session.server.core.events.emit('rmdir', { ...userRef(ctx.session), path });
  return reply(250, 'Remove directory operation successful.');
}

async function dele(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  await ctx.vfs.remove(path);
  ctx.session.server.core.events.emit('delete', { ...userRef(ctx.session), path });
  return reply(250, 'Delete operation successful.');
}

async function rnfr(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  if (path === '/') throw new FtpReplyError(550, 'Permission denied: cannot rename the root.');
  await ctx.vfs.stat(path);
  ctx.session.renameFrom = path;
  return reply(350, 'Ready for RNTO.');
}

async function rnto(ctx: AuthedContext): Promise<Reply> {
  const from = ctx.session.renameFrom;
  if (!from) return reply(503, 'RNFR required first.');
  const to = ctx.target;
  await ctx.vfs.rename(from, to);
  ctx.session.server.core.events.emit('rename', { ...userRef(ctx.session), from, path: to });
  return reply(250, 'Rename successful.');
}

async function size(ctx: AuthedContext): Promise<Reply> {
  const st = await ctx.vfs.stat(ctx.target);
  if (st.type !== 'file') throw new FtpReplyError(550, 'Could not get file size: not a plain file.');
  return reply(213, String(st.size));
}

async function mdtm(ctx: AuthedContext): Promise<Reply> {
  const st = await ctx.vfs.stat(ctx.target);
  return reply(213, formatTimeVal(st.mtime));
}

async function mfmt(ctx: AuthedContext): Promise<Reply> {
  const space = ctx.arg.indexOf(' ');
  const time = space === -1 ? null : parseTimeVal(ctx.arg.slice(0, space));
  if (!time) return reply(501, 'Syntax: MFMT YYYYMMDDHHMMSS path');
  await ctx.vfs.setMtime(ctx.target, time);
  return reply(213, `Modify=${formatTimeVal(time)}; ${ctx.arg.slice(space + 1)}`);
}

const dirs = (verb: string, help: string, handler: CommandSpec['handler'], arg: CommandSpec['arg'], path?: PathSpec): CommandSpec[] => [
  { verb, help, needs: 'login', arg, noun: 'Directory', path, handler },
  { verb: `X${verb.slice(0, 3)}`, help: `${help} (RFC 775 variant)`, needs: 'login', arg, noun: 'Directory', path, handler },
];

/** Metadata may be shown where the account may read or list. */
const VISIBLE: PathSpec = { perm: 'visible' };

const PARENT: PathSpec = { perm: null, from: () => '..' };

/** The navigation family. */
export const navigationCommands: CommandSpec[] = [
  ...dirs('PWD', 'PWD: print the working directory', pwd, 'none'),
  ...dirs('CWD', 'CWD <path>: change directory', cwd, 'required', { perm: null }),
  { verb: 'CDUP', help: 'CDUP: go to the parent directory', needs: 'login', arg: 'none', noun: 'Directory', path: PARENT, handler: cwd },
  { verb: 'XCUP', help: 'XCUP: go to the parent directory (RFC 775 variant)', needs: 'login', arg: 'none', noun: 'Directory', path: PARENT, handler: cwd },
  ...dirs('MKD', 'MKD <path>: make a directory', mkd, 'required', { perm: 'mkdir' }),
  ...dirs('RMD', 'RMD <path>: remove an empty directory', rmd, 'required', { perm: 'rmdir' }),
  { verb: 'DELE', help: 'DELE <path>: delete a file', needs: 'login', arg: 'required', path: { perm: 'delete' }, handler: dele },
  { verb: 'RNFR', help: 'RNFR <path>: rename from', needs: 'login', arg: 'required', path: { perm: 'rename' }, handler: rnfr },
  { verb: 'RNTO', help: 'RNTO <path>: rename to', needs: 'login', arg: 'required', path: { perm: 'rename' }, handler: rnto },
  { verb: 'SIZE', help: 'SIZE <path>: file size in bytes', needs: 'login', arg: 'required', feat: () => ['SIZE'], path: VISIBLE, handler: size },
  { verb: 'MDTM', help: 'MDTM <path>: modification time', needs: 'login', arg: 'required', feat: () => ['MDTM'], path: VISIBLE, handler: mdtm },
  {
    verb: 'MFMT',
    help: 'MFMT <YYYYMMDDHHMMSS> <path>: set the modification time',
    needs: 'login',
    arg: 'required',
    feat: () => ['MFMT'],
    capability: 'setMtime',
    path: { perm: 'write', modifies: true, from: (arg) => (arg.includes(' ') ? arg.slice(arg.indexOf(' ') + 1) : '') },
    handler: mfmt,
  },
];
