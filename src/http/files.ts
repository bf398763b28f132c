/**
 * Downloads: a file of the anonymous root streamed from the Vfs with its
 * validators (ETag, Last-Modified), conditional requests (304, 412), one
 * byte range (206, 416), HEAD, the Content-Type and Content-Disposition,
 * the anonymous `max_rate` (the same Throttle as FTP), and the
 * transfer-start / transfer-progress / transfer events every protocol
 * emits. Nothing is sent until the file is open, so a file that changed
 * between the stat and the open is described by what was opened.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Throttle } from '../core/throttle.js';
import type { TransferStartEvent } from '../events/events.js';
import { baseName } from '../vfs/path.js';
import type { ReadHandle, VfsStat } from '../vfs/types.js';
import { entityTag, ifRangeHolds, parseRange, preconditions, type RangeDecision, type Validators } from './conditions.js';
import type { RequestContext } from './context.js';
import { contentDisposition, contentType } from './mime.js';
import { sendError } from './respond.js';

/** At most one progress event per download per this many ms. */
const PROGRESS_INTERVAL_MS = 1000;

/** Opens tried when the file keeps changing between stat and open. */
const OPEN_ATTEMPTS = 3;

/** True when the opened file is the one stat described (identity compared where both know it). */
function sameFile(a: VfsStat, b: VfsStat): boolean {
  const id = a.unique === undefined || b.unique === undefined || a.unique === b.unique;
  return id && a.size === b.size && a.mtime.getTime() === b.mtime.getTime();
}

/** The headers every answer about this file carries. */
function fileHeaders(path: string, v: Validators): OutgoingHttpHeaders {
  const name = baseName(path);
  const type = contentType(name);
  const disposition = contentDisposition(name, type);
  return {
    'Content-Type': type,
    ETag: v.etag,
    'Last-Modified': v.mtime.toUTCString(),
    'Accept-Ranges': 'bytes',
    'X-Content-Type-Options': 'nosniff',
    ...(disposition ? { 'Content-Disposition': disposition } : {}),
  };
}

/** What to answer a GET or HEAD for a file with `st`, before opening it. */
function decide(req: IncomingMessage, st: VfsStat, v: Validators): 'not-modified' | 'failed' | RangeDecision {
  const pre = preconditions(req.headers, v);
  if (pre !== 'proceed') return pre;
  // Range handling is defined for GET only (RFC 9110 14.2): HEAD describes the whole file.
  const ifRange = req.headers['if-range'];
  if (req.method !== 'GET' || !ifRangeHolds(typeof ifRange === 'string' ? ifRange : undefined, v)) return { kind: 'full' };
  return parseRange(req.headers.range, st.size);
}

/** A file to serve: its path, its stat, and the handle when the caller has opened it already (with that stat). */
export interface FileTarget {
  path: string;
  stat: VfsStat;
  opened?: ReadHandle;
}

/** Serves a file (already checked to be a readable file); a handle opened for it is closed when not used. */
export async function serveFile(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, file: FileTarget): Promise<void> {
  try {
    return await serveStat(ctx, req, res, file);
  } finally {
    if (file.opened && !used.has(file.opened)) file.opened.close();
  }
}

/** Handles passed to {@link send} (which closes them). */
const used = new WeakSet<ReadHandle>();

async function serveStat(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, file: FileTarget): Promise<void> {
  const { path, opened } = file;
  let stat = file.stat;
  for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
    const v: Validators = { etag: entityTag(stat), mtime: stat.mtime };
    const headers = fileHeaders(path, v);
    const d = decide(req, stat, v);
    if (d === 'not-modified') return void res.writeHead(304, { ETag: v.etag, 'Last-Modified': headers['Last-Modified'] }).end();
    if (d === 'failed') return sendError(req, res, 412, 'the file has changed (a precondition failed)');
    if (d.kind === 'unsatisfiable') {
      return void res
        .writeHead(416, { 'Content-Range': `bytes */${stat.size}`, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
        .end(req.method === 'HEAD' ? undefined : `416 Range Not Satisfiable: the file has ${stat.size} bytes\n`);
    }
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'Content-Length': stat.size }).end();
    const start = d.kind === 'partial' ? d.start : 0;
    const handle = opened && start === 0 ? opened : await ctx.area.vfs.read(path, start);
    used.add(handle);
    if (!sameFile(handle.stat, stat)) {
      handle.close();
      stat = handle.stat;
      continue;
    }
    const end = d.kind === 'partial' ? d.end : stat.size - 1;
    const length = stat.size === 0 ? 0 : end - start + 1;
    const partial = d.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${stat.size}` } : {};
    res.writeHead(d.kind === 'partial' ? 206 : 200, { ...headers, ...partial, 'Content-Length': length });
    const download = send(ctx, res, handle, { path, start, length, whole: d.kind === 'full' });
    ctx.track(download);
    return download;
  }
  sendError(req, res, 503, 'the file is changing; please try again');
}

/** Counts bytes (reported to `onBytes`) and emits transfer-progress at most once a second when someone listens. */
function counter(ctx: RequestContext, start: TransferStartEvent, onBytes: (bytes: number) => void): { add(n: number): void; bytes(): number } {
  const events = ctx.core.events;
  let bytes = 0;
  let next = performance.now() + PROGRESS_INTERVAL_MS;
  return {
    add(n) {
      bytes += n;
      onBytes(bytes);
      if (events.listenerCount('transfer-progress') === 0) return;
      const now = performance.now();
      if (now < next) return;
      next = now + PROGRESS_INTERVAL_MS;
      events.emit('transfer-progress', { ...start, bytes });
    },
    bytes: () => bytes,
  };
}

/** The first `n` bytes of a stream (which is then let go). A stream that ends short fails. */
async function* take(stream: Readable, n: number): AsyncGenerator<Buffer> {
  let left = n;
  if (left === 0) return;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    yield part;
    if (left === 0) return;
  }
  throw new Error('the file ended early');
}

/** Sends the body of a download and emits its events. */
async function send(ctx: RequestContext, res: ServerResponse, handle: ReadHandle, job: { path: string; start: number; length: number; whole: boolean }): Promise<void> {
  const start: TransferStartEvent = { ...ctx.ref, direction: 'download', path: job.path, offset: job.start };
  ctx.core.events.emit('transfer-start', start);
  const began = performance.now();
  const live = { path: job.path, direction: 'download' as const, bytes: 0, size: job.length };
  ctx.session.transfer = live;
  const count = counter(ctx, start, (bytes) => {
    live.bytes = bytes;
    ctx.session.lastActive = Date.now();
  });
  let ok = false;
  try {
    if (job.whole && ctx.maxRate <= 0 && handle.copyTo && job.length > 0) {
      // The whole file, unthrottled: the backend's copy loop with reused buffers.
      const cancels = new Set<() => void>();
      const onClose = () => {
        if (!res.writableFinished) for (const fn of cancels) fn();
      };
      res.once('close', onClose);
      try {
        await handle.copyTo(res, { onChunk: (n) => count.add(n), onCancel: (fn) => (cancels.add(fn), () => cancels.delete(fn)) });
      } finally {
        res.off('close', onClose);
      }
    } else {
      // Counted as handed to the response, after the throttle: the bytes that left, not the bytes read ahead.
      const meter = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const chunk of chunks) {
          count.add(chunk.length);
          yield chunk;
        }
      };
      const source = take(handle.stream, job.length);
      if (ctx.maxRate > 0) await pipeline(source, new Throttle(ctx.maxRate), meter, res);
      else await pipeline(source, meter, res);
    }
    ok = true;
  } catch {
    res.destroy();
  } finally {
    handle.close();
    if (ctx.session.transfer === live) ctx.session.transfer = null;
    const seconds = (performance.now() - began) / 1000;
    ctx.core.events.emit('transfer', { ...start, bytes: count.bytes(), seconds, ok, mode: 'binary' });
  }
}
