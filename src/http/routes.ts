/**
 * One web view request, from the target to the answer: only GET and HEAD
 * (405 otherwise); the target decoded strictly (400/414); the drop box
 * refused under any spelling (403) before storage is asked anything; then
 * the anonymous Access rules, a stat through the Vfs (404 for what is not
 * there), and a directory page (HTML or `?format=json`) or the file.
 * A directory URL without its trailing slash is redirected to it (301), so
 * the page's relative links resolve.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VfsError } from '../vfs/errors.js';
import { parentOf } from '../vfs/path.js';
import type { VfsStat } from '../vfs/types.js';
import type { RequestContext } from './context.js';
import { serveFile } from './files.js';
import { jsonEntry, jsonHead, jsonTail, orderedListing } from './listing.js';
import { PAGE_CSP, pageHead, pageRows, pageTail } from './page.js';
import { MAX_PAGE } from './pageCache.js';
import { decodeTarget, encodePath, inDropBox, type DecodedTarget } from './paths.js';
import { SAFE_HEADERS, sendError, sendRedirect, write } from './respond.js';

/** Bytes of page text gathered before a write. */
const WRITE_CHUNK = 64 * 1024;

/** A target that decoded. */
type Decoded = Extract<DecodedTarget, { ok: true }>;

const DROP_BOX = 'the drop box accepts uploads (over FTP or SFTP) only: nothing in it can be listed or downloaded';

/** Answers one request on an admitted connection. */
export async function handleRequest(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(req, res, 405, 'this archive is read-only: use GET or HEAD', { Allow: 'GET, HEAD' });
  const target = decodeTarget(req.url ?? '');
  if (!target.ok) return sendError(req, res, target.status, target.message);
  const { path } = target;
  ctx.session.lastActive = Date.now();
  ctx.session.cwd = target.trailingSlash ? path : parentOf(path);
  const { access, uploadDir, vfs } = ctx.area;
  if (inDropBox(path, uploadDir)) return sendError(req, res, 403, DROP_BOX);
  if (!access.allows('read', path) && !access.allows('list', path)) return sendError(req, res, 403, 'access denied');
  if (plainGet(req, target) && access.allows('read', path) && (await servePlainGet(ctx, req, res, path))) return;
  let st: VfsStat;
  try {
    st = await vfs.stat(path);
  } catch (err) {
    return storageError(ctx, req, res, err);
  }
  return serveEntry(ctx, req, res, target, st).catch((err: unknown) => storageError(ctx, req, res, err));
}

/**
 * Nearly every download, a plain GET: the file opened at once and served
 * with the open's stat (one stat, and the realpath, fewer). False, with
 * nothing sent, when it is not a file that opened: a directory, a special
 * file or an error takes the stat path, which answers it as before.
 */
async function servePlainGet(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const handle = await ctx.area.vfs.read(path, 0).catch(() => null);
  if (!handle) return false;
  if (handle.stat.type !== 'file') {
    handle.close();
    return false;
  }
  await serveFile(ctx, req, res, { path, stat: handle.stat, opened: handle }).catch((err: unknown) => storageError(ctx, req, res, err));
  return true;
}

/** A GET of a file URL with no range and no condition: always the whole file (200) when it is a readable file. */
function plainGet(req: IncomingMessage, target: Decoded): boolean {
  const h = req.headers;
  return (
    !target.trailingSlash &&
    req.method === 'GET' &&
    h.range === undefined &&
    h['if-range'] === undefined &&
    h['if-match'] === undefined &&
    h['if-none-match'] === undefined &&
    h['if-modified-since'] === undefined &&
    h['if-unmodified-since'] === undefined
  );
}

/** A directory (its page, or a redirect to its URL with the slash) or a file. */
function serveEntry(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, target: Decoded, st: VfsStat): Promise<void> {
  const { path, trailingSlash, format } = target;
  const { access } = ctx.area;
  if (st.type === 'dir') {
    if (!trailingSlash) return Promise.resolve(sendRedirect(req, res, encodePath(path) + '/' + (format === 'json' ? '?format=json' : '')));
    if (!access.allows('list', path)) return Promise.resolve(sendError(req, res, 403, 'this directory cannot be listed'));
    return serveDirectory(ctx, req, res, target, st);
  }
  if (st.type !== 'file' || trailingSlash) return Promise.resolve(sendError(req, res, 404, 'no such file or directory'));
  if (!access.allows('read', path)) return Promise.resolve(sendError(req, res, 403, 'this file cannot be downloaded'));
  return serveFile(ctx, req, res, { path, stat: st });
}

/** A storage failure as a 4xx/5xx page, worded without host paths; after the headers, the connection is cut. */
function storageError(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy(); // a client gone, or storage failing mid-body
  const code = err instanceof VfsError ? err.code : null;
  if (code === 'not-found' || code === 'not-dir' || code === 'is-dir' || code === 'bad-offset') return sendError(req, res, 404, 'no such file or directory');
  if (code === 'denied') return sendError(req, res, 403, 'access denied');
  ctx.core.log.warn({ event: 'http-error', session: ctx.ref.session, remote: ctx.ref.remote, err }, 'web view request failed');
  sendError(req, res, 500, 'the archive could not be read; please try again later');
}

/** The `.message` text of a directory, or null. */
async function messageOf(ctx: RequestContext, dir: string): Promise<string | null> {
  const lines = await ctx.messages.get(ctx.area.vfs, dir);
  return lines.length === 0 ? null : lines.join('\n');
}

/**
 * A directory page (HTML) or listing (JSON): from the page cache when it
 * holds a valid one for this directory stat (`st`), else made and
 * streamed in chunks, and kept when it was small enough.
 */
async function serveDirectory(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, target: Decoded, st: VfsStat): Promise<void> {
  const { path: dir, format } = target;
  const headers =
    format === 'json'
      ? { ...SAFE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' }
      : { ...SAFE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-cache' };
  if (req.method === 'HEAD') return void res.writeHead(200, headers).end();
  const key = `${format} ${dir}`;
  const kept = ctx.pages.get(key, st);
  if (kept) return void res.writeHead(200, { ...headers, 'Content-Length': kept.length }).end(kept);
  const rules = { access: ctx.area.access, dropBox: ctx.area.uploadDir };
  // Read (and sort) before answering: a directory that cannot be read gets an error page, not half a page.
  const [listing, message] = await Promise.all([orderedListing(ctx.area.vfs, dir, rules), messageOf(ctx, dir)]);
  res.writeHead(200, headers);
  let count = 0;
  let out = format === 'json' ? jsonHead(dir, message, listing.sorted) : pageHead(dir, message, listing.sorted);
  // The page's text is kept for the cache while it stays small enough.
  let parts: string[] | null = ctx.pages.enabled ? [] : null;
  let length = 0;
  const send = async (text: string): Promise<void> => {
    if (parts) {
      length += text.length;
      if (length > MAX_PAGE) parts = null;
      else parts.push(text);
    }
    await write(res, text);
  };
  for await (const batch of listing.batches) {
    if (format === 'json') {
      for (const e of batch) out += (count++ === 0 ? '' : ',') + jsonEntry(e);
    } else {
      out += pageRows(batch);
      count += batch.length;
    }
    if (out.length >= WRITE_CHUNK) {
      await send(out);
      out = '';
    }
  }
  out += format === 'json' ? jsonTail() : pageTail(count, listing.sorted);
  await send(out);
  res.end();
  if (parts) ctx.pages.put(key, st, Buffer.from(parts.join('')));
}
