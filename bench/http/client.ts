/**
 * The load generator's HTTP/1.1 client, as lean as its FTP one: plain
 * sockets reading through `onread` into one shared 1 MiB buffer (large
 * reads, no allocation per chunk), a response parser that only looks at the
 * head and, for chunked bodies, at the chunk-size lines, and counts the
 * rest. GET only, one request at a time per connection, kept alive unless
 * the server says `Connection: close`. A body can be kept (copied) when a
 * scenario wants to check it.
 */
import net from 'node:net';

/** Shared by every connection: each read is consumed synchronously. */
const READ_BUFFER = Buffer.allocUnsafe(1 << 20);

/** Longest response head accepted. */
const MAX_HEAD = 64 * 1024;

/** What one GET received. */
export interface HttpResult {
  status: number;
  /** Body bytes (after chunked decoding). */
  bytes: number;
  /** The Content-Length announced, or -1 (chunked, or read to the close). */
  contentLength: number;
  chunked: boolean;
  /** From sending the request (or from connecting, for {@link httpGet}) to the last body byte. */
  seconds: number;
  /** The body, when asked to keep it. */
  body?: Buffer;
}

/** A failure of the client or the exchange. */
export class HttpClientError extends Error {}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'to-close';

/** One response being read. */
interface Pending {
  started: number;
  keep: boolean;
  parts: Buffer[];
  head: string;
  state: State;
  status: number;
  contentLength: number;
  chunked: boolean;
  close: boolean;
  /** Bytes left of the body (length) or of the current chunk. */
  left: number;
  bytes: number;
  line: string;
  resolve(r: HttpResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** One kept-alive connection. */
export class HttpConnection {
  private pending: Pending | null = null;
  private ended = false;
  private failure: Error | null = null;

  private constructor(
    private readonly socket: net.Socket,
    readonly host: string,
  ) {
    socket.on('error', (err) => this.fail(err));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onEnd());
  }

  /** Connects (noDelay); rejects after `timeoutMs`. */
  static connect(host: string, port: number, timeoutMs = 10_000): Promise<HttpConnection> {
    return new Promise((resolve, reject) => {
      const ref: { conn?: HttpConnection } = {};
      const socket = net.connect({
        host,
        port,
        noDelay: true,
        onread: { buffer: READ_BUFFER, callback: (n, buf) => (ref.conn?.onData(buf, n), true) },
      });
      const conn = new HttpConnection(socket, host);
      ref.conn = conn;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HttpClientError(`connect to ${host}:${port}: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(conn);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** False once the server has closed the connection (or it failed): open a new one. */
  get usable(): boolean {
    return !this.ended && this.failure === null && !this.socket.destroyed;
  }

  /** GETs `path`; resolves when the whole body has arrived. `keep` copies the body. */
  get(path: string, opts: { timeoutMs?: number; keep?: boolean } = {}): Promise<HttpResult> {
    if (this.pending) return Promise.reject(new HttpClientError('one request at a time'));
    if (!this.usable) return Promise.reject(this.failure ?? new HttpClientError('the connection is closed'));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new HttpClientError(`GET ${path}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
      this.pending = {
        started: performance.now(),
        keep: opts.keep === true,
        parts: [],
        head: '',
        state: 'head',
        status: 0,
        contentLength: -1,
        chunked: false,
        close: false,
        left: 0,
        bytes: 0,
        line: '',
        resolve,
        reject,
        timer,
      };
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\nUser-Agent: wharf-bench\r\nAccept: */*\r\n\r\n`);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(err);
  }

  private onEnd(): void {
    this.ended = true;
    const p = this.pending;
    if (!p) return;
    if (p.state === 'to-close') return this.finish(p);
    this.fail(new HttpClientError(p.state === 'head' && p.head === '' ? 'the server closed the connection' : `the server closed the connection mid-answer (${p.state})`));
  }

  private finish(p: Pending): void {
    this.pending = null;
    clearTimeout(p.timer);
    if (p.close) {
      this.ended = true;
      this.socket.destroy();
    }
    const result: HttpResult = { status: p.status, bytes: p.bytes, contentLength: p.contentLength, chunked: p.chunked, seconds: (performance.now() - p.started) / 1000 };
    if (p.keep) result.body = Buffer.concat(p.parts);
    p.resolve(result);
  }

  /** Consumes `n` bytes of `buf` (the shared read buffer: copied if kept). */
  private onData(buf: Uint8Array, n: number): void {
    const p = this.pending;
    if (!p) return void (n > 0 && this.fail(new HttpClientError('bytes from the server with no request pending')));
    const data = Buffer.from(buf.buffer, buf.byteOffset, n);
    let i = 0;
    for (let guard = 0; i < n && this.pending === p && guard < 1_000_000; guard++) {
      switch (p.state) {
        case 'head': {
          // The end of the head: in this read, or spanning the previous one and this.
          let headEnd = -1;
          if (p.head.length > 0) {
            const tail = p.head.slice(-3);
            const k = (tail + data.toString('latin1', i, Math.min(n, i + 3))).indexOf('\r\n\r\n');
            if (k >= 0) headEnd = i + k + 4 - tail.length;
          }
          if (headEnd < 0) {
            const end = data.indexOf('\r\n\r\n', i, 'latin1');
            if (end >= 0) headEnd = end + 4;
          }
          p.head += data.toString('latin1', i, headEnd >= 0 ? headEnd : n);
          if (headEnd < 0) {
            i = n;
            if (p.head.length > MAX_HEAD) return this.fail(new HttpClientError('response head too large'));
            break;
          }
          i = headEnd;
          this.parseHead(p);
          break;
        }
        case 'length':
        case 'chunk-data': {
          const take = Math.min(p.left, n - i);
          this.body(p, data, i, take);
          i += take;
          p.left -= take;
          if (p.left === 0) {
            if (p.state === 'length') this.finish(p);
            else p.state = 'chunk-end';
          }
          break;
        }
        case 'to-close':
          this.body(p, data, i, n - i);
          i = n;
          break;
        case 'chunk-size':
        case 'chunk-end':
        case 'trailer': {
          const lf = data.indexOf(10, i);
          const stop = lf >= 0 ? lf + 1 : n;
          p.line += data.toString('latin1', i, stop);
          i = stop;
          if (lf < 0) {
            if (p.line.length > 4096) return this.fail(new HttpClientError('chunk line too long'));
            break;
          }
          const line = p.line.replace(/\r?\n$/, '');
          p.line = '';
          if (p.state === 'chunk-end') {
            if (line !== '') return this.fail(new HttpClientError('chunk not followed by CRLF'));
            p.state = 'chunk-size';
          } else if (p.state === 'chunk-size') {
            const size = parseInt(line.split(';')[0] ?? '', 16);
            if (!Number.isFinite(size) || size < 0) return this.fail(new HttpClientError(`bad chunk size: ${line.slice(0, 20)}`));
            if (size === 0) p.state = 'trailer';
            else {
              p.left = size;
              p.state = 'chunk-data';
            }
          } else if (line === '') this.finish(p);
          break;
        }
      }
    }
    if (i < n && this.pending !== p && this.usable) this.fail(new HttpClientError('bytes past the end of the answer'));
  }

  private body(p: Pending, data: Buffer, from: number, len: number): void {
    p.bytes += len;
    if (p.keep && len > 0) p.parts.push(Buffer.from(data.subarray(from, from + len)));
  }

  private parseHead(p: Pending): void {
    const lines = p.head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) return this.fail(new HttpClientError(`bad status line: ${(lines[0] ?? '').slice(0, 60)}`));
    p.status = Number(m[1]);
    const http10 = (lines[0] ?? '').startsWith('HTTP/1.0');
    let keepAlive = !http10;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === 'content-length') p.contentLength = Number(value);
      else if (name === 'transfer-encoding') p.chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') keepAlive = value.includes('keep-alive') || (!value.includes('close') && keepAlive);
    }
    p.close = !keepAlive;
    if (p.chunked) p.state = 'chunk-size';
    else if (p.contentLength >= 0) {
      p.left = p.contentLength;
      p.state = 'length';
      if (p.left === 0) this.finish(p);
    } else if (p.status === 204 || p.status === 304 || (p.status >= 100 && p.status < 200)) this.finish(p);
    else {
      p.close = true;
      p.state = 'to-close';
    }
  }
}

/** One GET on a fresh connection, closed afterwards; `seconds` counts from the connect. */
export async function httpGet(host: string, port: number, path: string, opts: { timeoutMs?: number; connectTimeoutMs?: number; keep?: boolean } = {}): Promise<HttpResult> {
  const t0 = performance.now();
  const conn = await HttpConnection.connect(host, port, opts.connectTimeoutMs ?? 10_000);
  try {
    const r = await conn.get(path, opts);
    return { ...r, seconds: (performance.now() - t0) / 1000 };
  } finally {
    conn.close();
  }
}
