/**
 * The data channel of one session: at most one pending passive listener,
 * or an active address to connect to. `open()` yields the connection,
 * waiting with a timeout, never by polling.
 *
 * A passive data connection may arrive before or after the transfer
 * command (clients such as FileZilla send RETR/STOR/LIST/MLSD and connect
 * at the same time): the listener's state stays current until a transfer
 * has taken a connection or given up, so either order is accepted, from
 * the control connection's address only (unless foreign addresses are
 * allowed). A transfer's listener is kept for a moment and reused by the
 * session's next PASV/EPSV, which then announces the same port.
 */
import { channel as diagnosticsChannel } from 'node:diagnostics_channel';
import { connect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { normalizeAddress } from '../../protocol/address.js';
import type { PassivePool } from './passivePool.js';
import type { TransferAbort } from './abort.js';

/** Turns a raw data socket into the stream to use (TLS wraps it). */
export type DataWrapper = (socket: Socket) => Promise<Duplex>;

/** Gets the connection (or why there is none) while `open()` waits. */
type Waiter = (err: Error | null, socket?: Socket) => void;

/** Which passive mode a listener's connections are for (a kept listener serves the next one). */
interface Slot {
  mode?: Passive;
}

interface Passive {
  kind: 'passive';
  server: Server;
  port: number;
  host: string;
  slot: Slot;
  /** Closes a listener nobody uses. */
  idle: NodeJS.Timeout;
  /** The connection for the next transfer, once one has arrived. */
  socket: Socket | null;
  /** Set while a transfer waits for the connection. */
  waiter: Waiter | null;
}

type Mode = { kind: 'none' } | Passive | { kind: 'active'; host: string; port: number };

/** A listener kept after a transfer, for the session's next passive mode. */
interface Spare {
  server: Server;
  port: number;
  host: string;
  slot: Slot;
  timer: NodeJS.Timeout;
}

/**
 * How long the listener of a transfer is kept for the next PASV/EPSV. A
 * client fetching many files asks again within milliseconds; an idle
 * session does not hold a port of the passive range for long.
 */
export const SPARE_MS = 2000;

/** Why a data connection could not be had. */
export class DataConnectionError extends Error {}

/**
 * Name of the `node:diagnostics_channel` channel on which data channels
 * publish {@link DataChannelDiagnostic} messages (for tests and tracing;
 * nothing is built when nobody subscribes).
 */
export const DATA_CHANNEL_DIAGNOSTICS = 'wharf:data-channel';

/** One message on {@link DATA_CHANNEL_DIAGNOSTICS}. */
export interface DataChannelDiagnostic {
  /**
   * `accepted`: a passive connection was taken for the next transfer;
   * `waiting`: a transfer is waiting for its passive connection;
   * `refused`: a passive connection was closed (`reason` says why);
   * `peer-closed`: the client closed or reset a connection that was
   * accepted but not yet taken by a transfer.
   */
  event: 'accepted' | 'waiting' | 'refused' | 'peer-closed';
  /** The passive listener's port. */
  port: number;
  /** The peer's address (all but `waiting`). */
  from?: string;
  reason?: 'foreign' | 'stale' | 'extra';
}

const diagnostics = diagnosticsChannel(DATA_CHANNEL_DIAGNOSTICS);

function publish(message: DataChannelDiagnostic): void {
  if (diagnostics.hasSubscribers) diagnostics.publish(message);
}

/** Stops a listener (once: closing a closed server would emit 'close' again). */
function stopListening(server: Server): void {
  if (server.listening) server.close();
}

/**
 * A held connection, back to normal half-open handling, for a transfer. One
 * the peer reset while it was held is refused: a transfer on a destroyed
 * stream could wait forever for events that never come.
 */
function usable(socket: Socket): Socket {
  socket.allowHalfOpen = false;
  if (socket.destroyed) throw new DataConnectionError('The data connection was closed before the transfer started.');
  return socket;
}

/** Options of a data channel. */
export interface DataChannelOptions {
  pool: PassivePool;
  /** The control connection's peer, which data connections must come from. */
  peerAddress: string;
  /** Accept passive connections from other addresses (off by default). */
  allowForeign: boolean;
  /** Local address to bind active connections to. */
  localAddress: string;
  timeoutMs: number;
  /** Called when a passive connection from a foreign address is refused. */
  onForeign?: (address: string) => void;
  /**
   * Who a passive connection is from, when it is not simply its socket's
   * peer (a PROXY header from a trusted balancer); null: refused and closed.
   */
  peerOf?: (socket: Socket) => Promise<string | null>;
}

/** One session's data channel. */
export class DataChannel {
  private mode: Mode = { kind: 'none' };
  private spare: Spare | null = null;
  /** Bumped by every reset, so a listener that opens after one is dropped. */
  private epoch = 0;

  constructor(private readonly opts: DataChannelOptions) {}

  /** True when PASV/EPSV/PORT/EPRT has prepared a connection. */
  get ready(): boolean {
    return this.mode.kind !== 'none';
  }

  /**
   * Opens a passive listener on `host` (closing any earlier one that no
   * transfer used); returns its port. The listener of the session's last
   * transfer is reused while it is kept (see {@link SPARE_MS}).
   */
  async listen(host: string): Promise<number> {
    this.reset();
    const epoch = this.epoch;
    const spare = this.takeSpare(host);
    const slot: Slot = spare?.slot ?? {};
    const server = spare?.server ?? (await this.opts.pool.listen(host, (socket) => this.incoming(slot.mode, socket)));
    if (epoch !== this.epoch) {
      // Reset (e.g. the session ended) while the listener was opening.
      server.close();
      throw new DataConnectionError('The data channel was closed.');
    }
    const port = spare?.port ?? (server.address() as { port: number }).port;
    server.unref();
    // A listener nobody connects to, and no transfer waits on, is closed after the data timeout.
    const idle = setTimeout(() => {
      if (this.mode === mode && !mode.socket && !mode.waiter) this.reset();
    }, this.opts.timeoutMs);
    idle.unref();
    const mode: Passive = { kind: 'passive', server, port, host, slot, idle, socket: null, waiter: null };
    slot.mode = mode;
    this.mode = mode;
    return port;
  }

  /** The kept listener if it is on `host` and still listening (it is then no longer spare); any other is closed. */
  private takeSpare(host: string): Spare | null {
    const spare = this.spare;
    this.spare = null;
    if (!spare) return null;
    clearTimeout(spare.timer);
    if (spare.host === host && spare.server.listening) return spare;
    stopListening(spare.server);
    return null;
  }

  /**
   * Keeps the listener of a passive mode whose transfer has its connection,
   * for the next PASV/EPSV: a client fetching many files saves a socket,
   * bind and listen per file. Connections to it meanwhile are refused as
   * stale; it closes after SPARE_MS unused.
   */
  private keep(mode: Passive): void {
    if (!mode.server.listening) return;
    const previous = this.spare;
    if (previous && previous.server !== mode.server) {
      // Never two kept: the older one would outlive its timer's check.
      clearTimeout(previous.timer);
      stopListening(previous.server);
    }
    const timer = setTimeout(() => {
      if (this.spare?.server !== mode.server) return;
      this.spare = null;
      stopListening(mode.server);
    }, SPARE_MS);
    timer.unref();
    this.spare = { server: mode.server, port: mode.port, host: mode.host, slot: mode.slot, timer };
  }

  /** A connection to a passive listener: who it is from (its PROXY header first, if it must have one), then `accept`. */
  private incoming(mode: Passive | undefined, socket: Socket): void {
    const peerOf = this.opts.peerOf;
    if (!peerOf) return this.accept(mode, socket, normalizeAddress(socket.remoteAddress));
    socket.on('error', () => undefined);
    void peerOf(socket).then((from) => from !== null && this.accept(mode, socket, from));
  }

  /**
   * A connection to a passive listener, from `from`. The first one from the
   * right address is taken, whether a transfer already waits for it or not;
   * any later one is refused.
   */
  private accept(mode: Passive | undefined, socket: Socket, from: string): void {
    const refuse = (reason: 'foreign' | 'stale' | 'extra') => {
      socket.destroy();
      publish({ event: 'refused', port: mode?.port ?? 0, from, reason });
    };
    if (!mode || this.mode !== mode) return refuse('stale');
    if (mode.socket) return refuse('extra');
    if (!this.opts.allowForeign && from !== this.opts.peerAddress) {
      this.opts.onForeign?.(from);
      return refuse('foreign');
    }
    // Held unread until the transfer starts: an upload's first bytes wait in the socket.
    socket.pause();
    socket.on('error', () => undefined);
    // A client may half-close (FIN) before its command, after an upload's bytes
    // or none: keep our side open (Node would end and destroy it), so the
    // transfer still gets a live connection.
    socket.allowHalfOpen = true;
    mode.socket = socket;
    publish({ event: 'accepted', port: mode.port, from });
    if (diagnostics.hasSubscribers) this.watchHeld(mode, socket, from);
    mode.waiter?.(null, socket);
  }

  /** Publishes `peer-closed` if the client ends or resets `socket` while it is held. */
  private watchHeld(mode: Passive, socket: Socket, from: string): void {
    const gone = () => {
      if (this.mode === mode && mode.socket === socket) publish({ event: 'peer-closed', port: mode.port, from });
    };
    socket.once('end', gone);
    socket.once('close', gone);
  }

  /** Remembers an address for an active connection. */
  setActive(host: string, port: number): void {
    this.reset();
    this.mode = { kind: 'active', host, port };
  }

  /**
   * The data connection for one transfer. The channel is reset afterwards:
   * every transfer needs a fresh PASV/EPSV/PORT/EPRT, as in vsftpd. A
   * passive listener stays current while the transfer waits, so a
   * connection that arrives after the command is taken too.
   */
  async open(abort: TransferAbort): Promise<Socket> {
    const mode = this.mode;
    if (mode.kind === 'none') throw new DataConnectionError('Use PORT, PASV, EPRT or EPSV first.');
    if (mode.kind === 'active') {
      this.mode = { kind: 'none' };
      return this.connectActive(mode.host, mode.port, abort);
    }
    return usable(await this.waitPassive(mode, abort));
  }

  /** Ends the passive mode once a transfer has its connection (its listener is kept) or gave up. */
  private release(mode: Passive, used: boolean): void {
    mode.waiter = null;
    clearTimeout(mode.idle);
    if (this.mode === mode) this.mode = { kind: 'none' };
    if (used) this.keep(mode);
    else stopListening(mode.server);
  }

  private waitPassive(mode: Passive, abort: TransferAbort): Promise<Socket> {
    if (mode.socket) {
      this.release(mode, true);
      return Promise.resolve(mode.socket);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const done: Waiter = (err, s) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        // At once, not in a later turn: a connection arriving after this is refused as stale.
        this.release(mode, !err);
        if (err) reject(err);
        else resolve(s as Socket);
      };
      const timer = setTimeout(() => done(new DataConnectionError('Timed out waiting for the data connection.')), this.opts.timeoutMs);
      const off = abort.on(() => done(new DataConnectionError('Transfer aborted.')));
      mode.waiter = done;
      publish({ event: 'waiting', port: mode.port });
    });
  }

  private connectActive(host: string, port: number, abort: TransferAbort): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress: this.opts.localAddress, noDelay: true });
      let settled = false;
      const done = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        socket.off('error', done);
        if (err) {
          socket.destroy();
          reject(new DataConnectionError("Can't open data connection."));
        } else {
          socket.on('error', () => undefined);
          resolve(socket);
        }
      };
      const timer = setTimeout(() => done(new Error('timeout')), this.opts.timeoutMs);
      const off = abort.on(() => done(new Error('aborted')));
      socket.once('error', done);
      socket.once('connect', () => done(null));
    });
  }

  /** Closes any pending listener or held connection; a waiting transfer fails at once. */
  reset(): void {
    this.epoch++;
    const mode = this.mode;
    this.mode = { kind: 'none' };
    if (mode.kind !== 'passive') return;
    clearTimeout(mode.idle);
    stopListening(mode.server);
    mode.socket?.destroy();
    mode.waiter?.(new DataConnectionError('The data channel was closed.'));
  }

  /** Resets, and closes the listener kept for the next transfer (the session ends, or a new user starts). */
  close(): void {
    this.reset();
    const spare = this.spare;
    this.spare = null;
    if (!spare) return;
    clearTimeout(spare.timer);
    stopListening(spare.server);
  }
}
