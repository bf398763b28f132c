/**
 * The web view room: a read-only HTTP(S) view of the anonymous archive on
 * the same core as FTP and SFTP (node:http / node:https, no framework).
 * Connections are admitted through the shared state (see admission.ts);
 * requests go to routes.ts. Slow and idle clients are cut by the server's
 * timeouts:
 *
 * - a request head must arrive within `login_timeout` (headersTimeout and
 *   requestTimeout, checked every half second), which cuts slowloris;
 * - a TLS handshake gets the same time;
 * - between requests a kept-alive connection may idle for 5 s, or
 *   `idle_timeout` if shorter: it holds an anonymous slot, and browsers
 *   open several connections;
 * - a response that makes no progress for `data_timeout` (a client that
 *   stopped reading) is cut.
 *
 * Request heads are limited to 16 KiB; bodies are never read.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServerType, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServerType } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Core } from '../core/context.js';
import { MessageCache } from '../core/message.js';
import { ProxyGate } from '../core/proxy.js';
import type { SessionInfo } from '../core/sessions.js';
import type { TlsPem } from '../core/tls.js';
import { Admissions } from './admission.js';
import type { HttpContext, HttpSession, RequestContext } from './context.js';
import { sendError } from './respond.js';
import { PageCache } from './pageCache.js';
import { handleRequest } from './routes.js';

/** Longest request head accepted (bytes). */
const MAX_HEADER_BYTES = 16 * 1024;

/** Longest idle time between two requests on one connection. */
const KEEP_ALIVE_MS = 5000;

/** The web view of one core. */
export class HttpServer {
  private server: HttpServerType | HttpsServerType | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly downloads = new Set<Promise<void>>();
  private readonly contexts = new WeakMap<HttpSession, RequestContext>();
  private readonly admissions: Admissions;
  private readonly ctx: HttpContext;
  private readonly proxy: ProxyGate;

  constructor(
    private readonly core: Core,
    private readonly tls: TlsPem | null,
  ) {
    const area = core.anonymous;
    if (!area) throw new Error('the web view needs anonymous access');
    this.admissions = new Admissions(core, tls !== null);
    this.proxy = new ProxyGate(core.config.server, core.log);
    this.ctx = {
      core,
      area,
      maxRate: core.config.anonymous?.max_rate ?? 0,
      messages: new MessageCache(),
      pages: new PageCache((core.config.http?.listing_cache ?? 0) * 1000, core.events),
      track: (download) => {
        this.downloads.add(download);
        void download.finally(() => this.downloads.delete(download));
      },
    };
  }

  /** True when serving HTTPS. */
  get secure(): boolean {
    return this.tls !== null;
  }

  /** The listening address, once `listen` has resolved. */
  get address(): AddressInfo {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('the web view is not listening');
    return a;
  }

  /** Starts listening on `[http]`'s host and port. */
  async listen(): Promise<AddressInfo> {
    const cfg = this.core.config.http;
    if (!cfg) throw new Error('no [http] section');
    const server = this.create();
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    server.on('clientError', (err: Error, socket: Socket) => clientError(err, socket));
    server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
    // Behind a balancer, node:http (or TLS) gets each connection only after its PROXY header.
    this.proxy.guard(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: cfg.host, port: cfg.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.core.log.error({ err }, 'http listener error'));
    this.server = server;
    return this.address;
  }

  private create(): HttpServerType | HttpsServerType {
    const s = this.core.config.server;
    const headersTimeout = s.login_timeout * 1000;
    const options: ServerOptions = {
      headersTimeout,
      requestTimeout: headersTimeout,
      keepAliveTimeout: Math.min(KEEP_ALIVE_MS, s.idle_timeout * 1000),
      connectionsCheckingInterval: Math.min(500, headersTimeout),
      maxHeaderSize: MAX_HEADER_BYTES,
      noDelay: true,
    };
    const server = this.tls ? createHttpsServer({ ...options, ...tlsOptions(this.tls), handshakeTimeout: headersTimeout }) : createHttpServer(options);
    server.timeout = s.data_timeout * 1000;
    return server;
  }

  /** The open connections, as the admin console lists them (each is an anonymous session). */
  liveSessions(): SessionInfo[] {
    return this.admissions.sessions();
  }

  /** Closes connection `id` (a running download is cut and reported incomplete); false when there is none. */
  disconnect(id: number): boolean {
    return this.admissions.disconnect(id);
  }

  /** Uses a newly loaded certificate and key (SIGHUP) for new connections. */
  reloadTls(pem: TlsPem): void {
    if (this.tls && this.server && 'setSecureContext' in this.server) this.server.setSecureContext(tlsOptions(pem));
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    this.admissions.add(socket);
  }

  /** The context of the requests of one admitted connection (made at its first request, kept with its session). */
  private requestContext(session: HttpSession): RequestContext {
    let ctx = this.contexts.get(session);
    if (!ctx) {
      ctx = { ...this.ctx, ref: session.ref, session };
      this.contexts.set(session, ctx);
    }
    return ctx;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const verdict = this.admissions.verdict(req.socket);
    if (!verdict || this.core.closing) {
      res.setHeader('Connection', 'close');
      return sendError(req, res, 503, this.core.closing ? 'the server is shutting down; please try again later' : 'service not available', { 'Retry-After': '30' });
    }
    verdict
      .then((v) => {
        if (v.ok) return handleRequest(this.requestContext(v.session), req, res);
        res.setHeader('Connection', 'close');
        sendError(req, res, 503, v.text, { 'Retry-After': String(v.retryAfter) });
      })
      .catch((err: unknown) => {
        this.core.log.error({ err }, 'web view request failed');
        sendError(req, res, 500, 'internal error');
      });
  }

  /**
   * Stops listening, lets running downloads finish for up to
   * `graceSeconds`, then closes every connection.
   */
  async close(graceSeconds = 0): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.downloads.size > 0 && graceSeconds > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceSeconds * 1000)));
      await Promise.race([Promise.all([...this.downloads]), deadline]);
      clearTimeout(timer);
    }
    for (const socket of this.sockets) socket.destroy();
    this.proxy.close();
    this.ctx.pages.close();
    await closed;
  }
}

/** The TLS settings of the HTTPS listener. */
function tlsOptions(pem: TlsPem): { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' } {
  return { cert: pem.cert, key: pem.key, minVersion: 'TLSv1.2' };
}

/** A request the parser refused (malformed, head too large, too slow): a short answer, then closed. */
function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, text] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['408 Request Timeout', 'the request took too long to arrive']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'the request head is too large']
        : ['400 Bad Request', 'malformed request'];
  const body = `${status}: ${text}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}
