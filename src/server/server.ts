/**
 * The FTP server: owns the control listener, the sessions and the state
 * they share. Configuration belongs to the instance; no globals, no signal
 * handlers (those live in cli/).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { WharfConfig } from '../config/load.js';
import type { Core } from '../core/context.js';
import type { Logger } from '../events/log.js';
import { reply } from '../protocol/reply.js';
import { normalizeAddress } from '../protocol/address.js';
import { StateUnavailableError } from '../state/types.js';
import { buildCommandTable } from './commands/table.js';
import { MessageCache } from '../core/message.js';
import { logout } from './commands/auth.js';
import type { ServerContext } from './context.js';
import { ProxyGate, type Peer } from '../core/proxy.js';
import { PassiveAnnouncer } from './data/announce.js';
import { PassivePool } from './data/passivePool.js';
import type { SessionInfo } from '../core/sessions.js';
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
  private unwatch = () => undefined as void;
  private readonly ctx: ServerContext;
  private readonly proxy: ProxyGate;
  readonly config: WharfConfig;
  readonly log: Logger;

  constructor(
    private readonly core: Core,
    private readonly tls: TlsMaterial | null,
  ) {
    this.config = core.config;
    this.log = core.log;
    this.proxy = new ProxyGate(core.config.server, core.log);
    this.ctx = {
      proxy: this.proxy,
      core,
      config: core.config,
      log: core.log,
      anonymous: core.anonymous,
      tls,
      messages: new MessageCache(),
      passivePool: new PassivePool(core.config.server.passive_ports),
      announcer: new PassiveAnnouncer(core.config.server.passive_addresses, core.config.server.passive_address),
      commands: buildCommandTable(tls ? tlsCommands : []),
      replies: [0, 0, 0, 0, 0, 0],
      get closing() {
        return core.closing;
      },
    };
    if (tls) {
      // A data connection may wait on a sibling's login (see tls/issuers.ts).
      const settled = () => tls.issuers.settled();
      const names = ['login', 'login-failed', 'logout'] as const;
      for (const name of names) core.events.on(name, settled);
      this.unwatch = () => names.forEach((name) => core.events.off(name, settled));
    }
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

  /** The sessions, as the admin console lists them. */
  liveSessions(): SessionInfo[] {
    const now = Date.now();
    return [...this.sessions].map((s) => s.info(now));
  }

  /** Ends session `id` with a 421 (its transfer is aborted: an upload is discarded); false when there is none. */
  disconnect(id: number, reason: string): boolean {
    for (const s of this.sessions) {
      if (s.id !== id) continue;
      s.terminate(reason);
      return true;
    }
    return false;
  }

  /** Replies sent, by class (index 1 to 5). */
  get replyCounts(): readonly number[] {
    return this.ctx.replies;
  }

  /** Passive data listeners open now. */
  get passivePortsInUse(): number {
    return this.ctx.passivePool.inUse;
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
    if (!this.proxy.enabled) return this.admit(raw, { address: normalizeAddress(raw.remoteAddress), port: raw.remotePort ?? 0, proxy: null }, implicit);
    // Behind a balancer: the PROXY header first, before anything is said or admitted.
    void this.proxy.accept(raw).then((peer) => peer && this.admit(raw, peer, implicit));
  }

  /** Admits a connection from `peer` through the shared state, or refuses it with a 421. */
  private admit(raw: Socket, peer: Peer, implicit: boolean): void {
    const ip = peer.address;
    if (this.ctx.closing) {
      this.core.events.emit('connection-refused', { remote: ip, reason: 'closing' });
      this.refuse(raw, formatClosing());
      return;
    }
    const waiting = holdUntilAdmitted(raw);
    this.core.state.admit(ip).then(
      (verdict) => {
        const gone = waiting.stop();
        if (verdict.ok) return this.startSession(raw, peer, implicit, gone);
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
        waiting.stop();
        // A shared state that is down (on_failure = "closed") has said so once; each refusal is not news.
        if (!(err instanceof StateUnavailableError)) this.log.error({ err, remote: ip }, 'admission failed');
        this.refuse(raw, `421 Service not available${unavailableWhy(err)}; please try again later.\r\n`);
      },
    );
  }

  /** Starts the session of an admitted connection; `gone`: it closed while waiting. */
  private startSession(raw: Socket, peer: Peer, implicit: boolean, gone: boolean): void {
    const ctx = this.ctx;
    const ip = peer.address;
    if (gone || ctx.closing) {
      this.release(ip);
      if (!gone) this.refuse(raw, formatClosing());
      else raw.destroy();
      return;
    }
    const secure = implicit && ctx.tls ? this.implicitTls(raw, ctx.tls, ip) : null;
    const tlsState = secure && { context: secure.context, pbsz: true, prot: 'P' as const };
    const session = new FtpSession(this.core.nextSessionId(), secure?.socket ?? raw, ctx, tlsState, ip);
    if (secure) ctx.tls?.own(secure.context, session);
    this.sessions.add(session);
    this.core.events.emit('connect', { ...sessionRef(session), ...(peer.proxy ? { proxy: peer.proxy } : {}) });
    void session.ended.then(() => {
      logout(session);
      this.sessions.delete(session);
      this.release(ip);
      this.core.events.emit('disconnect', sessionRef(session));
    });
    // Plain: the session reads the socket. Implicit TLS reads it natively, bytes already held included
    // (a JS resume here could hand those to no one before TLS takes them).
    if (!secure) raw.resume();
    session.start(reply(220, this.config.server.banner));
  }

  /** Gives an admitted connection's slot back (a shared state that fails is logged, not thrown). */
  private release(ip: string): void {
    this.core.state.release(ip).catch((err: unknown) => this.log.error({ err, remote: ip }, 'releasing a connection slot failed'));
  }

  /**
   * TLS from the first byte (implicit FTPS). A handshake gets the login
   * time; a client that closes before finishing it is let go at once (the
   * greeting waiting for the handshake would otherwise keep the socket).
   */
  private implicitTls(raw: Socket, material: TlsMaterial, ip: string): { socket: TLSSocket; context: SecureContext } {
    const context = material.newContext();
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    const handshake = setTimeout(() => secure.destroy(), this.config.server.login_timeout * 1000);
    handshake.unref();
    const abandoned = () => secure.destroy();
    secure.once('end', abandoned);
    secure.once('secure', () => {
      clearTimeout(handshake);
      secure.off('end', abandoned);
    });
    secure.once('close', () => {
      clearTimeout(handshake);
      raw.destroy();
    });
    secure.on('error', (err: Error) => {
      this.log.info({ event: 'tls-failed', remote: ip, err: err.message }, 'implicit TLS negotiation failed');
      secure.destroy();
      raw.destroy();
    });
    return { socket: secure, context };
  }

  /**
   * Sends a last reply to a connection that is not admitted and closes it.
   * Its input is read and dropped, so its end is seen; a peer that never
   * closes is cut after a second, and at shutdown at once.
   */
  private refuse(socket: Socket, text: string): void {
    if (socket.destroyed) return;
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
    this.unwatch();
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
    this.proxy.close();
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

/** Bytes a client may send before it is admitted; more and it is cut. */
const MAX_EARLY_BYTES = 64 * 1024;

/**
 * Reads a connection while its admission is pending: what it sends is kept
 * (and handed back to the stream for the session), and its end is seen. A
 * socket merely paused here could take the peer's end into its buffer, out
 * of reach of a TLS layer put on it later, and hold its slot. `stop`
 * returns true when the connection has gone meanwhile.
 */
function holdUntilAdmitted(raw: Socket): { stop(): boolean } {
  const chunks: Buffer[] = [];
  let size = 0;
  let gone = false;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_EARLY_BYTES) raw.destroy();
  };
  const onGone = () => (gone = true);
  raw.on('data', onData);
  raw.once('end', onGone);
  raw.once('close', onGone);
  return {
    stop() {
      raw.off('data', onData);
      raw.off('end', onGone);
      raw.off('close', onGone);
      raw.pause();
      gone ||= raw.destroyed;
      if (!gone && chunks.length > 0) raw.unshift(Buffer.concat(chunks));
      return gone;
    },
  };
}

/** Why a shared state refused to decide (on_failure = "closed"), for the 421; empty for other errors. */
function unavailableWhy(err: unknown): string {
  return err instanceof StateUnavailableError ? `: ${err.message}` : '';
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
