/**
 * The data channel of one session: at most one pending passive listener,
 * or an active address to connect to. `open()` yields the connection,
 * waiting with a timeout, never by polling.
 */
import { connect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { normalizeAddress } from '../../protocol/address.js';
import type { PassivePool } from './passivePool.js';
import type { TransferAbort } from './abort.js';

/** Turns a raw data socket into the stream to use (TLS wraps it). */
export type DataWrapper = (socket: Socket) => Promise<Duplex>;

type Mode =
  | { kind: 'none' }
  | { kind: 'passive'; server: Server; port: number; socket: Socket | null; waiter: ((s: Socket) => void) | null }
  | { kind: 'active'; host: string; port: number };

/** Why a data connection could not be had. */
export class DataConnectionError extends Error {}

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
}

/** One session's data channel. */
export class DataChannel {
  private mode: Mode = { kind: 'none' };

  constructor(private readonly opts: DataChannelOptions) {}

  /** True when PASV/EPSV/PORT/EPRT has prepared a connection. */
  get ready(): boolean {
    return this.mode.kind !== 'none';
  }

  /** Opens a passive listener on `host` (closing any earlier one); returns its port. */
  async listen(host: string): Promise<number> {
    this.reset();
    const slot: { mode?: Extract<Mode, { kind: 'passive' }> } = {};
    const server = await this.opts.pool.listen(host, (socket) => this.accept(slot.mode, socket));
    const port = (server.address() as { port: number }).port;
    slot.mode = { kind: 'passive', server, port, socket: null, waiter: null };
    this.mode = slot.mode;
    server.unref();
    // A listener nobody connects to is closed after the data timeout.
    const idle = setTimeout(() => {
      if (this.mode === slot.mode && !slot.mode?.socket && !slot.mode?.waiter) this.reset();
    }, this.opts.timeoutMs);
    idle.unref();
    server.once('close', () => clearTimeout(idle));
    return port;
  }

  private accept(mode: Extract<Mode, { kind: 'passive' }> | undefined, socket: Socket): void {
    const from = normalizeAddress(socket.remoteAddress);
    if (!mode || this.mode !== mode || mode.socket) {
      socket.destroy();
      return;
    }
    if (!this.opts.allowForeign && from !== this.opts.peerAddress) {
      this.opts.onForeign?.(from);
      socket.destroy();
      return;
    }
    socket.pause();
    mode.socket = socket;
    mode.server.close();
    socket.on('error', () => undefined);
    if (mode.waiter) mode.waiter(socket);
  }

  /** Remembers an address for an active connection. */
  setActive(host: string, port: number): void {
    this.reset();
    this.mode = { kind: 'active', host, port };
  }

  /**
   * The data connection for one transfer. The channel is reset afterwards:
   * every transfer needs a fresh PASV/EPSV/PORT/EPRT, as in vsftpd.
   */
  async open(abort: TransferAbort): Promise<Socket> {
    const mode = this.mode;
    this.mode = { kind: 'none' };
    if (mode.kind === 'none') throw new DataConnectionError('Use PORT, PASV, EPRT or EPSV first.');
    if (mode.kind === 'active') return this.connectActive(mode.host, mode.port, abort);
    try {
      return await this.waitPassive(mode, abort);
    } finally {
      mode.server.close();
    }
  }

  private waitPassive(mode: Extract<Mode, { kind: 'passive' }>, abort: TransferAbort): Promise<Socket> {
    if (mode.socket) return Promise.resolve(mode.socket);
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, s?: Socket) => {
        clearTimeout(timer);
        off();
        mode.waiter = null;
        if (err) reject(err);
        else resolve(s as Socket);
      };
      const timer = setTimeout(() => done(new DataConnectionError('Timed out waiting for the data connection.')), this.opts.timeoutMs);
      const off = abort.on(() => done(new DataConnectionError('Transfer aborted.')));
      mode.waiter = (s) => done(null, s);
    });
  }

  private connectActive(host: string, port: number, abort: TransferAbort): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress: this.opts.localAddress, noDelay: true });
      const done = (err: Error | null) => {
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

  /** Closes any pending listener or accepted connection. */
  reset(): void {
    const mode = this.mode;
    this.mode = { kind: 'none' };
    if (mode.kind === 'passive') {
      mode.server.close();
      mode.socket?.destroy();
      mode.waiter = null;
    }
  }
}
