/**
 * The life of one data transfer: open the data connection, send 150, run
 * the stream pipeline, and only when it has ended (file closed, socket
 * flushed) send 226; 425/426/451/452 otherwise. File transfers emit
 * transfer-start, transfer-progress and transfer events.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { reply, type Reply } from '../../protocol/reply.js';
import { VfsError } from '../../vfs/errors.js';
import type { TransferStartEvent } from '../../events/events.js';
import { DataConnectionError } from './channel.js';
import type { ActiveTransfer, AuthedContext } from '../session/types.js';
import { userRef } from '../session/ref.js';
import { dataTlsRequired } from '../tls/commands.js';
import { DataTlsError, secureDataConnection } from '../tls/data.js';
import { TransferAbort } from './abort.js';

/** At most one progress event per transfer per this many ms. */
const PROGRESS_INTERVAL_MS = 1000;

/** What a transfer does once its data connection is open. */
export interface TransferJob {
  /** Text of the 150 reply. */
  opening: string;
  /** For STAT, logs and the xferlog; undefined for listings. */
  path?: string;
  /** Where a file transfer starts (REST). */
  offset?: number;
  /** Bytes a download will move, when known (for the admin console). */
  size?: number;
  direction: 'o' | 'i';
  /** Moves the bytes; `count` is called with each chunk's size. */
  run(data: Duplex, abort: TransferAbort, count: (n: number) => void): Promise<void>;
  /** After a good transfer, before 226 (e.g. commit an upload); `abort` still reports an ABOR or a closing control connection. */
  commit?(abort: TransferAbort): Promise<void>;
  /** After a failed one (e.g. discard an upload). */
  discard?(): Promise<void>;
  /** Text of the 226 reply. */
  done?: string;
}

function isDataError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ETIMEDOUT';
}

/** The reply when a transfer cannot start, or null when it may. */
function refusal(ctx: AuthedContext): Reply | null {
  const { session } = ctx;
  if (!session.data.ready) return reply(425, 'Use PORT, PASV, EPRT or EPSV first.');
  if (session.tls?.prot !== 'P' && dataTlsRequired(session)) {
    session.data.reset();
    return reply(521, 'Data connections must be encrypted on this server: use PROT P.');
  }
  return null;
}

/** Opens the data connection, sends 150, and wraps it in TLS under PROT P. */
async function openData(ctx: AuthedContext, job: TransferJob, controller: TransferAbort): Promise<Duplex> {
  const { session } = ctx;
  const cfg = session.server.config;
  const timeoutMs = cfg.server.data_timeout * 1000;
  let data: Duplex = await session.data.open(controller);
  session.send(reply(150, job.opening));
  if (session.tls?.prot === 'P') {
    data = await secureDataConnection(data as Socket, session.tls.context, {
      requireReuse: cfg.tls?.require_session_reuse ?? true,
      timeoutMs,
      abort: controller,
    });
  }
  (data as Duplex & { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(timeoutMs, () => controller.abort('data-timeout'));
  return data;
}

/** Runs a transfer and returns its final reply. */
export async function runTransfer(ctx: AuthedContext, job: TransferJob): Promise<Reply> {
  const { session } = ctx;
  const refused = refusal(ctx);
  if (refused) {
    await job.discard?.();
    return refused;
  }
  const controller = new TransferAbort();
  let bytes = 0;
  const started = performance.now();
  const start = startEvent(ctx, job);
  const add = (n: number) => (bytes += n);
  const count = start ? progressCounter(ctx, start, add) : add;
  session.abortedTransfer = false;
  session.transfer = activeTransfer(job, controller, () => bytes);
  session.armTimer();
  let data: Duplex | null = null;
  let result: Reply;
  let complete = false;
  try {
    data = await openData(ctx, job, controller);
    await job.run(data, controller, count);
    await job.commit?.(controller);
    complete = true;
    result = reply(226, job.done ?? 'Transfer complete.');
  } catch (err) {
    await job.discard?.().catch(() => undefined);
    result = failureReply(err, controller);
    if (controller.reason === 'abort') session.abortedTransfer = true;
  } finally {
    if (data) closeData(data, complete);
    session.transfer = null;
    session.armTimer();
  }
  if (start) endEvent(ctx, start, { bytes, seconds: (performance.now() - started) / 1000, ok: complete });
  return result;
}

/**
 * After a good transfer the data connection closes by itself once the peer
 * has read everything (destroying it at once could reset a TLS connection
 * whose close_notify is still unread, cutting the peer's last bytes). A
 * failed one is destroyed.
 */
function closeData(data: Duplex, complete: boolean): void {
  if (!complete || data.destroyed) {
    data.destroy();
    return;
  }
  // A download's copy has ended the stream already (ending it twice builds an error to throw away).
  if (!data.writableEnded) data.end();
  data.resume();
  const timer = setTimeout(() => data.destroy(), 10_000);
  timer.unref();
  data.once('close', () => clearTimeout(timer));
}

function failureReply(err: unknown, abort: TransferAbort): Reply {
  if (err instanceof DataTlsError) return reply(err.code, err.message);
  if (err instanceof DataConnectionError) return reply(425, err.message);
  if (abort.aborted) {
    if (abort.reason === 'data-timeout') return reply(426, 'Data connection timed out; transfer aborted.');
    return reply(426, 'Connection closed; transfer aborted.');
  }
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if ((err instanceof VfsError && err.code === 'no-space') || errno === 'ENOSPC' || errno === 'EDQUOT') {
    return reply(452, 'Insufficient storage space; transfer aborted.');
  }
  // A new-files-only upload whose name another client took while it ran (caught at commit).
  if (err instanceof VfsError && err.code === 'exists') return reply(553, 'Could not create file: it already exists and may not be overwritten.');
  if (err instanceof VfsError && err.code !== 'io') return reply(550, 'Transfer failed: file unavailable.');
  if (isDataError(err)) return reply(426, 'Connection closed; transfer aborted.');
  return reply(451, 'Transfer aborted: local error in processing.');
}

/** The start of a file transfer (emitted), or null for a listing. */
function startEvent(ctx: AuthedContext, job: TransferJob): TransferStartEvent | null {
  if (job.path === undefined) return null;
  const e: TransferStartEvent = {
    ...userRef(ctx.session),
    direction: job.direction === 'o' ? 'download' : 'upload',
    path: job.path,
    offset: job.offset ?? 0,
  };
  ctx.session.server.core.events.emit('transfer-start', e);
  return e;
}

/** What STAT and the admin console see of a running transfer. */
function activeTransfer(job: TransferJob, controller: TransferAbort, bytes: () => number): ActiveTransfer {
  return {
    abort: () => controller.abort(),
    bytes,
    description: `${job.direction === 'o' ? 'sending' : 'receiving'} ${job.path ?? 'a listing'}`,
    path: job.path ?? null,
    direction: job.direction === 'o' ? 'download' : 'upload',
    size: job.size ?? null,
  };
}

/** Emits the end of a file transfer. */
function endEvent(ctx: AuthedContext, start: TransferStartEvent, end: { bytes: number; seconds: number; ok: boolean }): void {
  const mode = ctx.session.type === 'A' ? 'ascii' : 'binary';
  ctx.session.server.core.events.emit('transfer', { ...start, ...end, mode, ident: ctx.account.ident });
}

/** Counts bytes, and emits transfer-progress at most once a second when someone listens. */
function progressCounter(ctx: AuthedContext, start: TransferStartEvent, add: (n: number) => number): (n: number) => void {
  const { events } = ctx.session.server.core;
  if (events.listenerCount('transfer-progress') === 0) return add;
  let next = performance.now() + PROGRESS_INTERVAL_MS;
  return (n) => {
    const bytes = add(n);
    const now = performance.now();
    if (now < next) return;
    next = now + PROGRESS_INTERVAL_MS;
    events.emit('transfer-progress', { ...start, bytes });
  };
}
