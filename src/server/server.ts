/**
 * The FTP server: owns the control listener, the sessions and the state
 * they share. Configuration belongs to the instance; no globals, no signal
 * handlers (those live in cli/).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { WharfConfig } from '../config/load.js';
import type { Core } from '../core/context.js';
import type { Logger } from '../events/log.js';
import { reply } from '../protocol/reply.js';
import { normalizeAddress } from '../protocol/address.js';
import { buildCommandTable } from './commands/table.js';
import { MessageCache } from './commands/message.js';
import { logout } from './commands/auth.js';
import type { ServerContext } from './context.js';
import { PassivePool } from './data/passivePool.js';
import { FtpSession } from './session/session.js';
import { sessionRef } from './session/ref.js';
import { TlsMaterial } from './tls/material.js';
import { tlsCommands } from './tls/commands.js';

/** How often login and idle deadlines are checked. */
const TIMEOUT_SWEEP_MS = 250;

/** A running (or ready to run) FTP server. */
export class FtpServer {
  private readonly sessions = new Set<FtpSession>();
  private listener: Server | null = null;
  private implicitListener: Server | null = null;
  private readonly refused = new Set<Socket>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly ctx: ServerContext;
  readonly config: WharfConfig;
  readonly log: Logger;

  constructor(
    private readonly core: Core,
    private readonly tls: TlsMaterial | null,
  ) {
    this.config = core.config;
    this.log = core.log;
    this.ctx = {
      core,
      config: core.config,
      log: core.log,
      anonymous: core.anonymous,
      tls,
      messages: new MessageCache(),
      passivePool: new PassivePool(core.config.server.passive_ports),
      commands: buildCommandTable(tls ? tlsCommands : []),
      get closing() {
        return core.closing;
      },
    };
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

  /**
   * Starts listening (and on the implicit FTPS port when configured);
   * resolves once connections are accepted.
   */
  async listen(): Promise<AddressInfo> {
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

  /** Re-reads the TLS certificate and key (SIGHUP); new sessions use them. */
  async reloadTls(): Promise<void> {
    const c = this.config.tls;
    if (!c || !this.tls) return;
    const fresh = await TlsMaterial.load(c.cert, c.key);
    this.tls.replaceWith(fresh);
    this.log.info({ event: 'tls-reloaded' }, 'TLS certificate reloaded');
  }

  private onConnection(raw: Socket, implicit: boolean): void {
    raw.on('error', () => undefined);
    const ip = normalizeAddress(raw.remoteAddress);
    if (this.ctx.closing) {
      this.core.events.emit('connection-refused', { remote: ip, reason: 'closing' });
      this.refuse(raw, formatClosing());
      return;
    }
    // Hold the bytes a client sends before the greeting until admitted.
    raw.pause();
    this.core.state.admit(ip).then(
      (verdict) => {
        if (verdict.ok) return this.startSession(raw, ip, implicit);
        this.core.events.emit('connection-refused', { remote: ip, reason: verdict.reason });
        const why =
          verdict.reason === 'banned'
            ? `Too many failed logins from your address; try again in ${verdict.seconds} seconds.`
            : verdict.reason === 'total'
              ? `Too many connections (the server limit is ${verdict.limit}); please try again later.`
              : `Too many connections from your address (the limit is ${verdict.limit}); please try again later.`;
        this.refuse(raw, `421 ${why}\r\n`);
      },
      (err: unknown) => {
        this.log.error({ err, remote: ip }, 'admission failed');
        this.refuse(raw, '421 Service not available; please try again later.\r\n');
      },
    );
  }

  private startSession(raw: Socket, ip: string, implicit: boolean): void {
    const ctx = this.ctx;
    if (raw.destroyed || ctx.closing) {
      void this.core.state.release(ip);
      if (!raw.destroyed) this.refuse(raw, formatClosing());
      return;
    }
    let socket = raw;
    let tlsState = null;
    if (implicit && ctx.tls) {
      const context = ctx.tls.newContext();
      const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
      const handshake = setTimeout(() => secure.destroy(), this.config.server.login_timeout * 1000);
      handshake.unref();
      secure.once('secure', () => clearTimeout(handshake));
      secure.on('error', (err: Error) => {
        this.log.info({ event: 'tls-failed', remote: ip, err: err.message }, 'implicit TLS negotiation failed');
        secure.destroy();
        raw.destroy();
      });
      socket = secure;
      tlsState = { context, pbsz: true, prot: 'P' as const };
    }
    const session = new FtpSession(this.core.nextSessionId(), socket, ctx, tlsState);
    this.sessions.add(session);
    this.core.events.emit('connect', sessionRef(session));
    void session.ended.then(() => {
      logout(session);
      this.sessions.delete(session);
      void this.core.state.release(ip);
      this.core.events.emit('disconnect', sessionRef(session));
    });
    raw.resume();
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
