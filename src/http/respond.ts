/**
 * The web view's small answers: plain-text error pages (a status line and
 * a short reason, never a host path or a stack), redirects, and writing a
 * streamed body with backpressure.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { redirectBody } from './page.js';

/** Headers of every answer that is not a file. */
export const SAFE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
} as const;

/** Answers with a plain-text error page: `404 Not Found: <reason>`. */
export function sendError(req: IncomingMessage, res: ServerResponse, status: number, reason: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}: ${reason}\n`;
  res.writeHead(status, {
    ...SAFE_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A permanent redirect to `location` (a percent-encoded path). */
export function sendRedirect(req: IncomingMessage, res: ServerResponse, location: string): void {
  const body = redirectBody(location);
  res.writeHead(301, { ...SAFE_HEADERS, Location: location, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Writes a chunk of a streamed body; waits while the client is behind; rejects when it has gone. */
export function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('the client has gone'));
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('close', gone);
      resolve();
    };
    const gone = () => {
      res.off('drain', done);
      reject(new Error('the client has gone'));
    };
    res.once('drain', done);
    res.once('close', gone);
  });
}
