/**
 * File transfers: RETR, STOR, STOU, APPE and ABOR (RFC 959), with REST
 * offsets, TYPE A conversion and bandwidth caps.
 */
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { reply, type Reply } from '../../protocol/reply.js';
import { AsciiDecoder, AsciiEncoder } from '../../protocol/typeA.js';
import { FtpReplyError } from '../../errors/index.js';
import { VfsError } from '../../vfs/errors.js';
import { baseName, joinPath } from '../../vfs/path.js';
import type { Upload, WriteMode } from '../../vfs/types.js';
import { Throttle } from '../../core/throttle.js';
import { pipeAbortable, settle, type TransferAbort } from '../data/abort.js';
import type { AuthedContext, CommandSpec } from '../session/types.js';
import { runTransfer } from '../data/transfer.js';

/** A Transform applying a stateful chunk converter. */
function converter(fn: (chunk: Buffer) => Buffer, flush?: () => Buffer): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, done: TransformCallback) {
      done(null, fn(chunk));
    },
    flush(done: TransformCallback) {
      const tail = flush?.();
      done(null, tail && tail.length > 0 ? tail : undefined);
    },
  });
}

/** The middle of a pipeline: ASCII conversion and throttling, when needed. */
function middle(ctx: AuthedContext, direction: 'o' | 'i'): Transform[] {
  const stages: Transform[] = [];
  if (ctx.session.type === 'A') {
    if (direction === 'o') {
      const enc = new AsciiEncoder();
      stages.push(converter((c) => enc.encode(c)));
    } else {
      const dec = new AsciiDecoder();
      stages.push(
        converter(
          (c) => dec.decode(c),
          () => dec.end(),
        ),
      );
    }
  }
  if (ctx.account.maxRate > 0) stages.push(new Throttle(ctx.account.maxRate));
  return stages;
}

function modeName(ctx: AuthedContext): string {
  return ctx.session.type === 'A' ? 'ASCII' : 'BINARY';
}

async function retr(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  const offset = ctx.session.restOffset;
  let opened;
  try {
    opened = await ctx.vfs.read(path, offset);
  } catch (err) {
    if (err instanceof VfsError && (err.code === 'is-dir' || err.code === 'denied')) throw new FtpReplyError(550, 'Failed to open file: not a plain file.');
    throw err;
  }
  const file = opened;
  const stages = middle(ctx, 'o');
  return runTransfer(ctx, {
    opening: `Opening ${modeName(ctx)} mode data connection for ${baseName(path)} (${file.stat.size} bytes).`,
    path,
    offset,
    size: Math.max(0, file.stat.size - offset),
    direction: 'o',
    run: (data, abort, count) => {
      // Byte for byte and unthrottled: the backend's copy loop with reused buffers.
      if (stages.length === 0 && file.copyTo) return file.copyTo(data, { onChunk: count, onCancel: (fn) => abort.on(fn) });
      const source = file.stream;
      // In binary mode the only stage is the throttle: count what it lets through, not what was read ahead.
      const last = stages.at(-1);
      (last && ctx.session.type === 'I' ? last : source).on('data', (c: Buffer) => count(c.length));
      return pipeAbortable([source, ...stages, data], abort);
    },
    discard: async () => file.close(),
  });
}

/**
 * How long an upload that would replace a whole file waits, after its data
 * ended, for the client's control connection to close or send ABOR.
 */
export const REPLACE_GRACE_MS = 50;

/**
 * In stream mode the end of the data is just a closed connection, which a
 * client that gives up (curl's --max-time) or is killed also produces; its
 * control connection then closes a few milliseconds later. A new file
 * committed then is a partial upload, as on every FTP server; but an
 * upload that replaces an existing file first waits REPLACE_GRACE_MS with
 * the client still there, so a half file never takes a whole one's place.
 */
async function stillWanted(ctx: AuthedContext, path: string, replacing: boolean, abort: TransferAbort): Promise<boolean> {
  if (ctx.session.controlGone || abort.aborted) return false;
  if (!replacing) return true;
  const exists = await ctx.vfs.stat(path).then(
    (st) => st.type === 'file',
    () => false,
  );
  if (exists) await settle(abort, REPLACE_GRACE_MS);
  return !ctx.session.controlGone && !abort.aborted;
}

/** Receives an upload into `upload`, committing it only after a complete transfer. */
function receive(ctx: AuthedContext, path: string, upload: Upload, how: { opening: string; done?: string; replacing?: boolean }): Promise<Reply> {
  const { opening, done, replacing = false } = how;
  return runTransfer(ctx, {
    opening,
    path,
    offset: ctx.session.restOffset,
    direction: 'i',
    done,
    run: (data, abort, count) => {
      data.on('data', (c: Buffer) => count(c.length));
      return pipeAbortable([data, ...middle(ctx, 'i'), upload.stream], abort);
    },
    commit: async (abort) => {
      if (!(await stillWanted(ctx, path, replacing, abort))) throw new Error('control connection closed during the upload');
      await upload.commit();
    },
    discard: () => upload.abort(),
  });
}

async function startUpload(ctx: AuthedContext, path: string, mode: WriteMode): Promise<Upload> {
  try {
    return await ctx.vfs.write(path, mode);
  } catch (err) {
    if (err instanceof VfsError && err.code === 'exists') throw new FtpReplyError(553, 'Could not create file: it already exists and may not be overwritten.');
    throw err;
  }
}

async function stor(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  const offset = ctx.session.restOffset;
  const createOnly = ctx.account.access.createOnly(path);
  if (createOnly && offset > 0) throw new FtpReplyError(550, 'Permission denied: resuming uploads is not allowed here.');
  if (offset > 0 && !ctx.vfs.capabilities.resumeUpload) throw new FtpReplyError(502, "Resuming uploads (REST + STOR) is not supported by this server's storage.");
  const mode: WriteMode = createOnly ? { kind: 'create-new' } : offset > 0 ? { kind: 'offset', offset } : { kind: 'replace' };
  const upload = await startUpload(ctx, path, mode);
  return receive(ctx, path, upload, { opening: `Ok to send data (${modeName(ctx)} mode).`, replacing: mode.kind === 'replace' });
}

async function appe(ctx: AuthedContext): Promise<Reply> {
  const path = ctx.target;
  const upload = await startUpload(ctx, path, { kind: 'append' });
  return receive(ctx, path, upload, { opening: `Ok to send data (${modeName(ctx)} mode), appending.` });
}

async function stou(ctx: AuthedContext): Promise<Reply> {
  const base = ctx.arg.trim() === '' ? 'file' : baseName(ctx.path(ctx.arg, null)) || 'file';
  for (let attempt = 0; attempt < 8; attempt++) {
    const name = `${base}.${randomBytes(4).toString('hex')}`;
    const path = ctx.path(joinPath(ctx.session.cwd, name), 'write');
    try {
      const upload = await ctx.vfs.write(path, { kind: 'create-new' });
      return receive(ctx, path, upload, { opening: `FILE: ${name}`, done: `Transfer complete (unique file name: ${name}).` });
    } catch (err) {
      if (!(err instanceof VfsError && err.code === 'exists')) throw err;
    }
  }
  throw new FtpReplyError(452, 'Could not find a unique file name.');
}

function abor({ session }: AuthedContext): Reply {
  if (session.abortedTransfer) {
    session.abortedTransfer = false;
    return reply(226, 'ABOR successful.');
  }
  session.data.reset();
  return reply(225, 'No transfer to abort.');
}

/** The file transfer family. */
export const fileCommands: CommandSpec[] = [
  { verb: 'RETR', help: 'RETR <path>: download a file', needs: 'login', arg: 'required', path: { perm: 'read' }, handler: retr },
  { verb: 'STOR', help: 'STOR <path>: upload a file', needs: 'login', arg: 'required', path: { perm: 'write' }, handler: stor },
  { verb: 'STOU', help: 'STOU [<name>]: upload under a unique name', needs: 'login', arg: 'optional', handler: stou },
  { verb: 'APPE', help: 'APPE <path>: append to a file', needs: 'login', arg: 'required', path: { perm: 'append', modifies: true }, capability: 'append', handler: appe },
  { verb: 'ABOR', help: 'ABOR: abort the transfer in progress', needs: 'login', arg: 'none', urgent: true, handler: abor },
];
