/**
 * The operator's console: a separate listener (127.0.0.1 by default, HTTPS
 * with [tls]'s certificate when `[admin] tls`), every request authenticated
 * by its bearer token (but `/metrics` when `metrics_public`). Routes:
 * `/metrics`, the status page `/` with its data (`/api/status`, and the
 * server-sent events of `/api/stream`), `/api/sessions`, `/api/bans`.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServerType, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Core } from '../core/context.js';
import type { SessionSource } from '../core/sessions.js';
import type { TlsPem } from '../core/tls.js';
import { addBan, banList, endSession, liftBan, sessionList, type ApiAnswer, type ApiContext } from './api.js';
import { Metrics, type MetricSources } from './metrics.js';
import { statusPage } from './page.js';
import { StatusFeed } from './status.js';
import { TokenCheck } from './token.js';

/** The `[admin]` settings the listener uses. */
export interface AdminSettings {
  host: string;
  port: number;
  token: string;
  metrics_public: boolean;
}

/** What the console uses of the core: the config, the log, the events and the shared state. */
export type AdminCore = Pick<Core, 'config' | 'log' | 'events' | 'state'>;

/** What the console reads: sessions, the gauges' sources, reload; `metrics` replaces this process's own exposition (a node's workers, aggregated). */
export type AdminSources = Omit<MetricSources, 'state'> & { sessions: SessionSource; metrics?: () => Promise<string> };

/** Largest JSON body accepted (bytes). */
const MAX_BODY = 16 * 1024;
/** Live status streams at once. */
const MAX_STREAMS = 32;
/** How often a stream gets a snapshot. */
const STREAM_MS = 1000;

/** The admin listener of one server. */
export class AdminServer {
  private server: HttpServerType | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<ServerResponse>();
  private readonly token: TokenCheck;
  readonly metrics: Metrics;
  private readonly feed: StatusFeed;
  private readonly api: ApiContext;
  private streamTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: AdminCore,
    private readonly settings: AdminSettings,
    private readonly sources: AdminSources,
    private readonly tls: TlsPem | null,
  ) {
    this.token = new TokenCheck(settings.token);
    this.metrics = new Metrics(core.events, { ...sources, state: core.state });
    this.feed = new StatusFeed(core.events, sources.sessions, core.state);
    this.api = { sessions: sources.sessions, state: core.state, events: core.events, banSeconds: core.config.server.ban_time };
  }

  /** The listening address, once `listen` has resolved. */
  get address(): AddressInfo {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('the admin listener is not listening');
    return a;
  }

  /** True when it speaks HTTPS. */
  get secure(): boolean {
    return this.tls !== null;
  }

  /** Starts listening. */
  async listen(): Promise<AddressInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        this.core.log.error({ err }, 'admin request failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    };
    const options = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5000, maxHeaderSize: 16 * 1024 };
    const server = this.tls ? createHttpsServer({ ...options, cert: this.tls.cert, key: this.tls.key }, handler) : createHttpServer(options, handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('error', (err) => this.core.log.error({ err }, 'admin listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.settings.host, port: this.settings.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this.address;
  }

  /** Stops listening and closes every connection (streams included). */
  async close(): Promise<void> {
    this.feed.close();
    if (this.streamTimer) clearInterval(this.streamTimer);
    this.streamTimer = null;
    for (const r of this.streams) r.end();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const open = path === '/metrics' && this.settings.metrics_public;
    if (!open && !(await this.token.check(req.headers.authorization))) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="wharf admin"');
      return json(res, 401, { error: 'a valid Authorization: Bearer token is required' });
    }
    if (method === 'GET' && (await this.view(path, req, res))) return;
    const answer = await this.route(method, path, req);
    if (answer) return json(res, answer.status, answer.body);
    const known = ['/metrics', '/', '/api/status', '/api/stream', '/api/sessions', '/api/bans', '/api/reload'].includes(path) || /^\/api\/(sessions|bans)\/[^/]+$/.test(path);
    return json(res, known ? 405 : 404, { error: known ? `${method} is not allowed here` : `no such endpoint: ${path}` });
  }

  /** The GET routes that are not JSON answers: metrics, the page, its data and stream. True when one answered. */
  private async view(path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': this.metrics.contentType });
      res.end(await (this.sources.metrics ?? (() => this.metrics.text()))());
    } else if (path === '/') {
      const page = statusPage();
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': page.csp });
      res.end(page.html);
    } else if (path === '/api/status') {
      json(res, 200, await this.feed.snapshot());
    } else if (path === '/api/stream') {
      this.stream(req, res);
    } else {
      return false;
    }
    return true;
  }

  private async route(method: string, path: string, req: IncomingMessage): Promise<ApiAnswer | null> {
    const [, area, rest] = /^\/api\/(sessions|bans|reload)(?:\/([^/]+))?$/.exec(path) ?? [];
    const key = `${method} ${area ?? ''}${rest === undefined ? '' : '/:id'}`;
    switch (key) {
      case 'GET sessions':
        return sessionList(this.api);
      case 'DELETE sessions/:id':
        return endSession(this.api, safeDecode(rest ?? ''));
      case 'GET bans':
        return banList(this.api);
      case 'POST bans': {
        const body = await readJson(req);
        return body.ok ? addBan(this.api, body.value) : { status: 400, body: { error: body.error } };
      }
      case 'DELETE bans/:id':
        return liftBan(this.api, safeDecode(rest ?? ''));
      case 'POST reload':
        return this.reload();
      default:
        return null;
    }
  }

  private async reload(): Promise<ApiAnswer> {
    try {
      return { status: 200, body: await this.sources.reload() };
    } catch (err) {
      const problems = (err as { problems?: string[] }).problems;
      if (!problems) throw err;
      this.core.log.error({ event: 'reload-failed', problems }, `reload refused; the old config stays: ${problems.join('; ')}`);
      return { status: 400, body: { error: problems.join('; ') } };
    }
  }

  /** Server-sent events: one snapshot at once, then one a second. */
  private stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) return json(res, 503, { error: 'too many status streams' });
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    req.socket.setTimeout(0);
    this.streams.add(res);
    res.once('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0 && this.streamTimer) {
        clearInterval(this.streamTimer);
        this.streamTimer = null;
      }
    });
    void this.push([res]);
    this.streamTimer ??= setInterval(() => void this.push([...this.streams]), STREAM_MS);
  }

  private async push(targets: ServerResponse[]): Promise<void> {
    const data = `data: ${JSON.stringify(await this.feed.snapshot())}\n\n`;
    // A stream that does not read is dropped rather than buffered without bound.
    for (const r of targets) {
      if (r.writableEnded) continue;
      if (r.writableLength > 1024 * 1024) r.destroy();
      else r.write(data);
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reads a JSON body of at most MAX_BODY bytes. */
async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) return { ok: false, error: `the body is larger than ${MAX_BODY} bytes` };
    chunks.push(c);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, error: 'the body is not valid JSON' };
  }
}
