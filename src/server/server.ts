/**
 * The FTP server: owns the control listener, the sessions and the state
 * they share. Configuration belongs to the instance; no globals, no signal
 * handlers (those live in cli/).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { WharfConfig } from '../config/load.js';
import { UserStore } from '../auth/users.js';
import { reply } from '../protocol/reply.js';
import { normalizeAddress } from '../protocol/address.js';
import { resolveVirtualPath } from '../vfs/path.js';
import { LocalVfs } from '../vfs/local/localVfs.js';
import type { Vfs } from '../vfs/types.js';
import { buildCommandTable } from './commands/table.js';
import { logout } from './commands/auth.js';
import type { AnonymousArea, ServerContext } from './context.js';
import { PassivePool } from './data/passivePool.js';
import { silentLogger, type Logger } from './events/log.js';
import { TransferLog } from './events/xferlog.js';
import { ConnectionLimits } from './limits/connections.js';
import { FtpSession } from './session/session.js';

/** Options beyond the config file. */
export interface FtpServerOptions {
  logger?: Logger;
}

/** A running (or ready to run) FTP server. */
export class FtpServer {
  private readonly sessions = new Set<FtpSession>();
  private listener: Server | null = null;
  private nextId = 1;
  private ctx: (ServerContext & { closing: boolean }) | null = null;
  readonly log: Logger;

  constructor(
    readonly config: WharfConfig,
    options: FtpServerOptions = {},
  ) {
    this.log = options.logger ?? silentLogger();
  }

  /** The listening address, once `listen` has resolved. */
  get address(): AddressInfo {
    const a = this.listener?.address();
    if (!a || typeof a === 'string') throw new Error('server is not listening');
    return a;
  }

  /** Number of open control connections. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  private async buildContext(): Promise<ServerContext & { closing: boolean }> {
    const c = this.config;
    let anonymous: AnonymousArea | null = null;
    if (c.anonymous) {
      const vfs = await LocalVfs.open(c.anonymous.root);
      const uploadDir = c.anonymous.upload_dir ? resolveVirtualPath('/', c.anonymous.upload_dir) : undefined;
      anonymous = { vfs, uploadDir: uploadDir === '/' ? undefined : uploadDir };
    }
    const homes = new Map<string, Promise<Vfs>>();
    return {
      config: c,
      log: this.log,
      users: new UserStore(c.users),
      anonymous,
      limits: new ConnectionLimits(c.server.max_connections, c.server.max_connections_per_ip, c.anonymous?.max_connections ?? 0),
      passivePool: new PassivePool(c.server.passive_ports),
      transferLog: c.log.transfer_log ? new TransferLog(c.log.transfer_log) : null,
      commands: buildCommandTable(),
      closing: false,
      openHome(home: string, keepPartialUploads: boolean): Promise<Vfs> {
        const key = `${resolvePath(home)}\0${keepPartialUploads}`;
        let vfs = homes.get(key);
        if (!vfs) {
          vfs = LocalVfs.open(home, { keepPartialUploads });
          homes.set(key, vfs);
          vfs.catch(() => homes.delete(key));
        }
        return vfs;
      },
    };
  }

  /** Starts listening; resolves once connections are accepted. */
  async listen(): Promise<AddressInfo> {
    this.ctx = await this.buildContext();
    const listener = createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: this.config.server.host, port: this.config.server.port }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    listener.on('error', (err) => this.log.error({ err }, 'listener error'));
    this.listener = listener;
    return this.address;
  }

  private onConnection(socket: Socket): void {
    const ctx = this.ctx;
    socket.on('error', () => undefined);
    if (!ctx || ctx.closing) {
      socket.end(formatClosing());
      return;
    }
    const ip = normalizeAddress(socket.remoteAddress);
    const admitted = ctx.limits.admit(ip);
    if (admitted !== 'ok') {
      const why =
        admitted === 'total'
          ? `Too many connections (the server limit is ${this.config.server.max_connections}); please try again later.`
          : `Too many connections from your address (the limit is ${this.config.server.max_connections_per_ip}); please try again later.`;
      this.log.info({ event: 'connection-refused', remote: ip, reason: admitted }, 'connection refused');
      socket.end(`421 ${why}\r\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const session = new FtpSession(this.nextId++, socket, ctx);
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
   * Stops accepting, lets running transfers finish for up to `graceSeconds`,
   * then sends 421 to every session and closes it.
   */
  async close(graceSeconds = this.config.server.shutdown_grace): Promise<void> {
    if (this.ctx) this.ctx.closing = true;
    const closed = new Promise<void>((resolve) => (this.listener ? this.listener.close(() => resolve()) : resolve()));
    const busy = [...this.sessions].filter((s) => s.transfer);
    if (busy.length > 0 && graceSeconds > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceSeconds * 1000)));
      await Promise.race([Promise.all(busy.map((s) => waitIdle(s))), deadline]);
      clearTimeout(timer);
    }
    for (const s of this.sessions) s.terminate('Server shutting down; goodbye.');
    await Promise.all([...this.sessions].map((s) => s.ended));
    await closed;
    await this.ctx?.transferLog?.close();
  }
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
