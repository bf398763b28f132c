/**
 * The FTP server: owns the control listener, the sessions and the state
 * they share. Configuration belongs to the instance; no globals, no signal
 * handlers (those live in cli/).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { resolve as resolvePath } from 'node:path';
import type { WharfConfig } from '../config/load.js';
import { UserStore } from '../auth/users.js';
import { anonymousAccess } from '../auth/access.js';
import { reply } from '../protocol/reply.js';
import { normalizeAddress } from '../protocol/address.js';
import { resolveVirtualPath } from '../vfs/path.js';
import { LocalVfs, type LocalVfsOptions } from '../vfs/local/localVfs.js';
import { sweepTempFiles } from '../vfs/local/sweep.js';
import { DirLister } from '../vfs/local/lister.js';
import type { Vfs } from '../vfs/types.js';
import { buildCommandTable } from './commands/table.js';
import { MessageCache } from './commands/message.js';
import { logout } from './commands/auth.js';
import type { AnonymousArea, ServerContext } from './context.js';
import { PassivePool } from './data/passivePool.js';
import { silentLogger, type Logger } from './events/log.js';
import { TransferLog } from './events/xferlog.js';
import { ConnectionLimits } from './limits/connections.js';
import { LoginThrottle } from './limits/loginThrottle.js';
import { FtpSession } from './session/session.js';
import { TlsMaterial } from './tls/material.js';
import { tlsCommands } from './tls/commands.js';

/** Opens a root directory as a Vfs (the default is LocalVfs). */
export type VfsOpener = (root: string, options: LocalVfsOptions) => Promise<Vfs>;

/** How often login and idle deadlines are checked. */
const TIMEOUT_SWEEP_MS = 250;

/** Options beyond the config file. */
export interface FtpServerOptions {
  logger?: Logger;
  /** Another Vfs backend (or a wrapper, e.g. for fault injection in tests). */
  openVfs?: VfsOpener;
}

/** A running (or ready to run) FTP server. */
export class FtpServer {
  private readonly sessions = new Set<FtpSession>();
  private listener: Server | null = null;
  private implicitListener: Server | null = null;
  private readonly refused = new Set<Socket>();
  private sweeper: NodeJS.Timeout | null = null;
  private nextId = 1;
  private ctx: (ServerContext & { closing: boolean }) | null = null;
  readonly log: Logger;
  private readonly openVfs: VfsOpener;
  /** Directory listings run in one worker thread, shared by every session. */
  private readonly lister = new DirLister();

  constructor(
    readonly config: WharfConfig,
    options: FtpServerOptions = {},
  ) {
    this.log = options.logger ?? silentLogger();
    this.openVfs = options.openVfs ?? ((root, opts) => LocalVfs.open(root, { ...opts, lister: this.lister }));
  }

  /** The listening address, once `listen` has resolved. */
  get address(): AddressInfo {
    const a = this.listener?.address();
    if (!a || typeof a === 'string') throw new Error('server is not listening');
    return a;
  }

  /** The implicit FTPS listening address, when `tls.implicit_port` is set. */
  get implicitAddress(): AddressInfo | null {
    const a = this.implicitListener?.address();
    return a && typeof a !== 'string' ? a : null;
  }

  /** Per-session figures, for tests and monitoring. */
  sessionStats(): { id: number; user: string | null; unsentReplyBytes: number; transfer: boolean }[] {
    return [...this.sessions].map((s) => ({
      id: s.id,
      user: s.login.kind === 'logged-in' ? s.login.account.name : null,
      unsentReplyBytes: s.socket.writableLength,
      transfer: s.transfer !== null,
    }));
  }

  /** Number of open control connections. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  private async buildContext(): Promise<ServerContext & { closing: boolean }> {
    const c = this.config;
    let anonymous: AnonymousArea | null = null;
    if (c.anonymous) {
      const vfs = await this.openVfs(c.anonymous.root, {});
      const uploadDir = c.anonymous.upload_dir ? resolveVirtualPath('/', c.anonymous.upload_dir) : undefined;
      const drop = uploadDir === '/' ? undefined : uploadDir;
      anonymous = { vfs, uploadDir: drop, access: anonymousAccess(drop) };
    }
    const homes = new Map<string, Promise<Vfs>>();
    const openVfs = this.openVfs;
    const tls = c.tls ? await TlsMaterial.load(c.tls.cert, c.tls.key) : null;
    return {
      tls,
      messages: new MessageCache(),
      config: c,
      log: this.log,
      users: new UserStore(c.users),
      anonymous,
      limits: new ConnectionLimits(c.server.max_connections, c.server.max_connections_per_ip, c.anonymous?.max_connections ?? 0),
      throttle: new LoginThrottle({
        baseDelayMs: c.server.login_failure_delay * 1000,
        threshold: c.server.ban_threshold,
        banSeconds: c.server.ban_time,
      }),
      passivePool: new PassivePool(c.server.passive_ports),
      transferLog: c.log.transfer_log ? new TransferLog(c.log.transfer_log) : null,
      commands: buildCommandTable(tls ? tlsCommands : []),
      closing: false,
      openHome(home: string, keepPartialUploads: boolean): Promise<Vfs> {
        const key = `${resolvePath(home)}\0${keepPartialUploads}`;
        let vfs = homes.get(key);
        if (!vfs) {
          vfs = openVfs(home, { keepPartialUploads });
          homes.set(key, vfs);
          vfs.catch(() => homes.delete(key));
        }
        return vfs;
      },
    };
  }

  /** Resolves with the number of crash leftovers removed by the start-up sweep. */
  sweepDone: Promise<number> = Promise.resolve(0);

  /**
   * Starts listening (and on the implicit FTPS port when configured);
   * resolves once connections are accepted. Temporary files of uploads
   * interrupted by a crash are removed in the background.
   */
  async listen(): Promise<AddressInfo> {
    this.ctx = await this.buildContext();
    this.sweepDone = this.sweep(new Date());
    const host = this.config.server.host;
    this.listener = await listenOn(host, this.config.server.port, (socket) => this.onConnection(socket, false));
    this.listener.on('error', (err) => this.log.error({ err }, 'listener error'));
    // One sweep for every session's login and idle deadlines.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const s of this.sessions) s.checkTimeouts(now);
    }, TIMEOUT_SWEEP_MS);
    this.sweeper.unref();
    const implicitPort = this.config.tls?.implicit_port;
    if (implicitPort !== undefined) {
      try {
        this.implicitListener = await listenOn(host, implicitPort, (socket) => this.onConnection(socket, true));
      } catch (err) {
        this.listener.close();
        (err as Error & { setting?: string }).setting = 'tls.implicit_port';
        throw err;
      }
    }
    return this.address;
  }

  private async sweep(startedAt: Date): Promise<number> {
    const c = this.config;
    const roots = c.users.map((u) => u.home);
    if (c.anonymous?.upload_dir) roots.push(resolvePath(c.anonymous.root, c.anonymous.upload_dir));
    const removed = await sweepTempFiles(roots, startedAt).catch(() => 0);
    if (removed > 0) this.log.info({ event: 'temp-swept', removed }, `removed ${removed} temporary upload file(s) left by an interrupted run`);
    return removed;
  }

  /** Re-reads the TLS certificate and key (SIGHUP); new sessions use them. */
  async reloadTls(): Promise<void> {
    const c = this.config.tls;
    if (!c || !this.ctx?.tls) return;
    const fresh = await TlsMaterial.load(c.cert, c.key);
    this.ctx.tls.replaceWith(fresh);
    this.log.info({ event: 'tls-reloaded' }, 'TLS certificate reloaded');
  }

  private onConnection(raw: Socket, implicit: boolean): void {
    let socket = raw;
    const ctx = this.ctx;
    socket.on('error', () => undefined);
    if (!ctx || ctx.closing) {
      this.refuse(socket, formatClosing());
      return;
    }
    const ip = normalizeAddress(socket.remoteAddress);
    const banned = ctx.throttle.banRemaining(ip);
    if (banned > 0) {
      this.log.info({ event: 'connection-refused', remote: ip, reason: 'banned', seconds: banned }, 'connection refused: address banned');
      this.refuse(socket, `421 Too many failed logins from your address; try again in ${banned} seconds.\r\n`);
      return;
    }
    const admitted = ctx.limits.admit(ip);
    if (admitted !== 'ok') {
      const why =
        admitted === 'total'
          ? `Too many connections (the server limit is ${this.config.server.max_connections}); please try again later.`
          : `Too many connections from your address (the limit is ${this.config.server.max_connections_per_ip}); please try again later.`;
      this.log.info({ event: 'connection-refused', remote: ip, reason: admitted }, 'connection refused');
      this.refuse(socket, `421 ${why}\r\n`);
      return;
    }
    let tlsState = null;
    if (implicit && ctx.tls) {
      const context = ctx.tls.newContext();
      const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
      const handshake = setTimeout(() => secure.destroy(), this.config.server.login_timeout * 1000);
      handshake.unref();
      secure.once('secure', () => clearTimeout(handshake));
      secure.on('error', (err) => {
        this.log.info({ event: 'tls-failed', remote: ip, err: err.message }, 'implicit TLS negotiation failed');
        secure.destroy();
        raw.destroy();
      });
      socket = secure;
      tlsState = { context, pbsz: true, prot: 'P' as const };
    }
    const session = new FtpSession(this.nextId++, socket, ctx, tlsState);
    this.sessions.add(session);
    this.log.info({ event: 'connect', session: session.id, remote: ip }, 'connection');
    void session.ended.then(() => {
      logout(session);
      this.sessions.delete(session);
      ctx.limits.release(ip);
      this.log.info({ event: 'disconnect', session: session.id, remote: ip }, 'disconnected');
    });
    session.start(reply(220, this.config.server.banner));
  }

  /**
   * Sends a last reply to a connection that is not admitted and closes it.
   * Its input is read and dropped, so its end is seen; a peer that never
   * closes is cut after a second, and at shutdown at once.
   */
  private refuse(socket: Socket, text: string): void {
    this.refused.add(socket);
    socket.on('close', () => this.refused.delete(socket));
    socket.resume();
    socket.end(text);
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /**
   * Stops accepting, lets running transfers finish for up to `graceSeconds`,
   * then sends 421 to every session and closes it.
   */
  async close(graceSeconds = this.config.server.shutdown_grace): Promise<void> {
    if (this.ctx) this.ctx.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const closeListener = (l: Server | null) => new Promise<void>((resolve) => (l ? l.close(() => resolve()) : resolve()));
    const closed = Promise.all([closeListener(this.listener), closeListener(this.implicitListener)]);
    const busy = [...this.sessions].filter((s) => s.transfer);
    if (busy.length > 0 && graceSeconds > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceSeconds * 1000)));
      await Promise.race([Promise.all(busy.map((s) => waitIdle(s))), deadline]);
      clearTimeout(timer);
    }
    for (const s of this.sessions) s.terminate('Server shutting down; goodbye.');
    for (const s of this.refused) s.destroy();
    await Promise.all([...this.sessions].map((s) => s.ended));
    await closed;
    await this.ctx?.transferLog?.close();
    await this.lister.close();
  }
}

function listenOn(host: string, port: number, onConnection: (s: Socket) => void): Promise<Server> {
  const server = createServer({ noDelay: true }, onConnection);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function formatClosing(): string {
  return '421 Server shutting down; please try again later.\r\n';
}

/** Resolves once the session has no transfer running (or has ended). */
function waitIdle(s: FtpSession): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!s.transfer) {
        resolve();
        return true;
      }
      return false;
    };
    if (check()) return;
    const onEnd = () => resolve();
    void s.ended.then(onEnd);
    s.onTransferEnd(() => check());
  });
}
