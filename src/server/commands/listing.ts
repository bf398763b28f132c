/**
 * Directory listings: LIST and NLST (RFC 959), MLSD and MLST (RFC 3659),
 * and STAT <path> on the control connection. Directories are read in
 * batches and streamed, never held whole in memory.
 */
import { Readable } from 'node:stream';
import picomatch from 'picomatch';
import { reply, type Reply } from '../../protocol/reply.js';
import { UnixLineFormatter } from '../../protocol/listing/unix.js';
import { formatMlsxLine, TimeValCache } from '../../protocol/listing/mlsx.js';
import { FtpReplyError } from '../../errors/index.js';
import { permFact } from '../../auth/access.js';
import { baseName, joinPath, parentOf } from '../../vfs/path.js';
import type { VfsStat } from '../../vfs/types.js';
import type { AuthedContext, CommandSpec } from '../session/types.js';
import { runTransfer } from '../data/transfer.js';
import { pipeAbortable } from '../data/abort.js';

/** What a LIST/NLST/STAT argument asks for. */
interface ListTarget {
  /** Virtual directory (or file) to list. */
  path: string;
  /** Glob on the names in `path`, if any. */
  match: ((name: string) => boolean) | null;
  /** Show names starting with a dot (`-a`). */
  all: boolean;
  /** Prefix for NLST names, as the client typed the directory. */
  prefix: string;
}

const GLOB = /[*?[]/;

/** Parses `[-flags] [path-or-glob]` as clients send to LIST and NLST. */
export function parseListArg(ctx: AuthedContext, arg: string): ListTarget {
  let rest = arg;
  let all = false;
  for (;;) {
    const m = /^-([A-Za-z1]+)(?:\s+|$)/.exec(rest);
    if (!m) break;
    if ((m[1] as string).includes('a') || (m[1] as string).includes('A')) all = true;
    rest = rest.slice(m[0].length);
  }
  const slash = rest.lastIndexOf('/');
  const last = rest.slice(slash + 1);
  if (GLOB.test(last)) {
    const dirText = rest.slice(0, slash + 1);
    const isMatch = picomatch(last, { dot: last.startsWith('.') });
    return { path: ctx.path(dirText === '' ? '.' : dirText, 'list'), match: isMatch, all, prefix: dirText };
  }
  return { path: ctx.path(rest === '' ? '.' : rest, 'list'), match: null, all, prefix: '' };
}

/** Streams the entries of a target (or the target itself when it is a file), filtered. */
async function* entries(ctx: AuthedContext, t: ListTarget): AsyncGenerator<VfsStat[]> {
  const st = await ctx.vfs.stat(t.path);
  if (st.type !== 'dir') {
    yield [{ ...st, name: baseName(t.path) }];
    return;
  }
  for await (const batch of ctx.vfs.list(t.path)) {
    const shown = batch.filter((e) => (t.all || !e.name.startsWith('.')) && (!t.match || t.match(e.name)));
    if (shown.length > 0) yield shown;
  }
}

async function* longLines(ctx: AuthedContext, t: ListTarget): AsyncGenerator<string> {
  const fmt = new UnixLineFormatter();
  for await (const batch of entries(ctx, t)) {
    let out = '';
    for (const e of batch) out += fmt.format(e) + '\r\n';
    yield out;
  }
}

async function* nameLines(ctx: AuthedContext, t: ListTarget, isFile: boolean): AsyncGenerator<string> {
  for await (const batch of entries(ctx, t)) {
    yield batch.map((e) => (isFile ? ctx.arg : t.prefix + e.name) + '\r\n').join('');
  }
}

async function* mlsdLines(ctx: AuthedContext, dir: string): AsyncGenerator<string> {
  const facts = ctx.session.mlstFacts;
  const access = ctx.account.access;
  const self = await ctx.vfs.stat(dir);
  yield formatMlsxLine(self, permFact(access, dir, 'dir'), facts, { name: '.', role: 'cdir' }) + '\r\n';
  const times = new TimeValCache();
  // Rights are usually the same for every entry of a directory: compute them once per type.
  const uniform = access.uniformIn(dir);
  const perms = new Map<string, string>();
  const perm = (e: VfsStat) => {
    if (!uniform) return permFact(access, joinPath(dir, e.name), e.type);
    let p = perms.get(e.type);
    if (p === undefined) perms.set(e.type, (p = permFact(access, joinPath(dir, e.name), e.type)));
    return p;
  };
  for await (const batch of ctx.vfs.list(dir)) {
    let out = '';
    for (const e of batch) out += formatMlsxLine(e, perm(e), facts, { times }) + '\r\n';
    yield out;
  }
}

function sendLines(ctx: AuthedContext, lines: AsyncGenerator<string>, opening: string): Promise<Reply> {
  return runTransfer(ctx, {
    opening,
    direction: 'o',
    run: (data, abort) => pipeAbortable([Readable.from(lines, { objectMode: false }), data], abort),
  });
}

async function list(ctx: AuthedContext): Promise<Reply> {
  const t = parseListArg(ctx, ctx.arg);
  await ctx.vfs.stat(t.path);
  return sendLines(ctx, longLines(ctx, t), 'Here comes the directory listing.');
}

async function nlst(ctx: AuthedContext): Promise<Reply> {
  const t = parseListArg(ctx, ctx.arg);
  const st = await ctx.vfs.stat(t.path);
  if (st.type === 'dir' && t.match === null && ctx.arg.trim() !== '' && !/^-/.test(ctx.arg)) t.prefix = '';
  return sendLines(ctx, nameLines(ctx, t, st.type !== 'dir'), 'Here comes the directory listing.');
}

async function mlsd(ctx: AuthedContext): Promise<Reply> {
  const dir = ctx.target;
  const st = await ctx.vfs.stat(dir);
  if (st.type !== 'dir') return reply(501, 'MLSD needs a directory; use MLST for a file.');
  return sendLines(ctx, mlsdLines(ctx, dir), 'Here comes the directory listing.');
}

async function mlst(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.path(ctx.arg === '' ? '.' : ctx.arg, null);
  const a = ctx.account.access;
  if (!a.allows('list', parentOf(path)) && !a.allows('list', path) && !a.allows('read', path)) {
    throw new FtpReplyError(550, 'Permission denied.');
  }
  const st = await ctx.vfs.stat(path);
  const line = formatMlsxLine(st, permFact(a, path, st.type), ctx.session.mlstFacts, { name: path });
  return reply(250, [`Listing ${path}`, line, 'End']);
}

/** STAT <path>: the LIST output on the control connection, streamed with backpressure. */
export async function statPath(ctx: AuthedContext): Promise<Reply> {
  const t = parseListArg(ctx, ctx.arg);
  await ctx.vfs.stat(t.path);
  await ctx.session.sendLines(`213-Status of ${t.path.replace(/[\r\n]/g, ' ')}:\r\n`, indent(longLines(ctx, t)));
  return reply(213, 'End of status.');
}

/** Indents the lines of a multi-line reply's body (RFC 959 4.2), chunk by chunk. */
async function* indent(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const chunk of chunks) yield ' ' + chunk.replace(/\r\n(?!$)/g, '\r\n ');
}

/** The listing family. */
export const listingCommands: CommandSpec[] = [
  { verb: 'LIST', help: 'LIST [<path>]: long listing (ls -l format)', needs: 'login', arg: 'optional', handler: list },
  { verb: 'NLST', help: 'NLST [<path|glob>]: names only', needs: 'login', arg: 'optional', handler: nlst },
  { verb: 'MLSD', help: 'MLSD [<dir>]: machine listing of a directory', needs: 'login', arg: 'optional', path: { perm: 'list', fallback: '.' }, handler: mlsd },
  { verb: 'MLST', help: 'MLST [<path>]: machine facts of one entry', needs: 'login', arg: 'optional', handler: mlst },
];
