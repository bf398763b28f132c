/**
 * The control connection: one TCP (or TLS) socket carrying commands and
 * replies. It owns the incremental reply parser, a queue of replies not yet
 * consumed, the TLS upgrade (AUTH TLS) and the TLS session kept for reuse by
 * data connections.
 */
import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { ReplyParser, type FtpReply } from './reply.js';
import { FtpAbortError, FtpClientError, FtpConnectionClosedError, FtpProtocolError, FtpTimeoutError } from './errors.js';
import { redactCommandLine } from '../protocol/command.js';

/** One line of the protocol dialogue, for logging. Passwords are masked. */
export interface LogEntry {
  /** `send` for a command, `recv` for a reply line, `info` for a client note. */
  direction: 'send' | 'recv' | 'info';
  /** The text of the line, without the line terminator. */
  text: string;
}

/** How to reach the server. */
export interface ControlOptions {
  host: string;
  port: number;
  /** Milliseconds to wait for the connection and for each reply. */
  timeout: number;
  /** Implicit TLS: options for the TLS handshake right after TCP connects. */
  implicitTls?: tls.ConnectionOptions;
  /** Receives every command and reply line. */
  log?: (entry: LogEntry) => void;
  signal?: AbortSignal;
}

interface Waiter {
  resolve: (reply: FtpReply) => void;
  reject: (err: Error) => void;
}

/** A connected control channel. Create it with {@link ControlConnection.open}. */
export class ControlConnection {
  /** The current socket (a TLSSocket after AUTH TLS or with implicit TLS). */
  socket: net.Socket;
  /** The newest TLS session, handed to data connections for resumption. */
  tlsSession: Buffer | undefined;
  private readonly parser = new ReplyParser();
  private decoder = new StringDecoder('utf8');
  private readonly queue: FtpReply[] = [];
  private readonly waiters: Waiter[] = [];
  private closedError: Error | undefined;
  private readonly onData = (chunk: Buffer): void => this.receive(this.decoder.write(chunk));
  private readonly log: (entry: LogEntry) => void;

  private constructor(socket: net.Socket, log?: (entry: LogEntry) => void) {
    this.socket = socket;
    this.log = log ?? (() => {});
    this.attach(socket);
  }

  /** Connects, waits for the greeting and returns the connection with it. */
  static async open(options: ControlOptions): Promise<{ conn: ControlConnection; greeting: FtpReply }> {
    const socket = await connectSocket(options);
    const conn = new ControlConnection(socket, options.log);
    if (socket instanceof tls.TLSSocket) conn.watchSession(socket);
    try {
      const greeting = await conn.read(options.timeout, options.signal);
      return { conn, greeting };
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** True once the socket is closed or failed. */
  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** True when the control channel is protected by TLS. */
  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** Writes one command. Rejects commands containing CR, LF or NUL. */
  send(command: string): void {
    if (/[\r\n\0]/.test(command)) {
      throw new FtpClientError(`refusing to send a command containing CR, LF or NUL: ${JSON.stringify(redactCommandLine(command))}`);
    }
    if (this.closedError) throw this.closedError;
    this.log({ direction: 'send', text: redactCommandLine(command) });
    this.socket.write(`${command}\r\n`, 'utf8');
  }

  /**
   * Resolves with the next reply. `timeout` (ms, 0 = none) and `signal` both
   * close the connection when they fire, since the dialogue is then out of
   * step.
   */
  read(timeout: number, signal?: AbortSignal): Promise<FtpReply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<FtpReply>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        resolve: (r) => {
          cleanup();
          resolve(r);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const fail = (err: Error): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter.reject(err);
        this.close(err);
      };
      const onAbort = (): void => fail(new FtpAbortError('operation aborted'));
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout > 0) timer = setTimeout(() => fail(new FtpTimeoutError(`no reply from server within ${timeout} ms`)), timeout);
      this.waiters.push(waiter);
    });
  }

  /** Sends a command and resolves with its first reply. */
  async command(command: string, timeout: number, signal?: AbortSignal): Promise<FtpReply> {
    this.send(command);
    return this.read(timeout, signal);
  }

  /** Upgrades the socket to TLS (after a successful AUTH TLS reply). */
  async upgrade(options: tls.ConnectionOptions, timeout: number): Promise<void> {
    const plain = this.socket;
    plain.removeListener('data', this.onData);
    const secure = tls.connect({ ...options, socket: plain });
    this.watchSession(secure);
    await waitSecure(secure, timeout);
    this.socket = secure;
    this.decoder = new StringDecoder('utf8');
    this.attach(secure);
  }

  /** Destroys the socket; pending reads reject with `reason`. */
  close(reason?: Error): void {
    if (!this.closedError) this.closedError = reason ?? new FtpConnectionClosedError('connection closed');
    for (const w of this.waiters.splice(0)) w.reject(this.closedError);
    this.socket.destroy();
  }

  /** Ends the connection politely (the caller has sent QUIT). */
  end(): void {
    if (!this.closedError) this.closedError = new FtpConnectionClosedError('connection closed');
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private watchSession(socket: tls.TLSSocket): void {
    socket.on('session', (session: Buffer) => {
      this.tlsSession = session;
    });
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (err) => this.close(new FtpConnectionClosedError(`control connection: ${err.message}`)));
    socket.on('close', () => this.close(new FtpConnectionClosedError('server closed the control connection')));
  }

  private receive(text: string): void {
    let replies: FtpReply[];
    try {
      replies = this.parser.push(text);
    } catch (err) {
      this.close(new FtpProtocolError((err as Error).message));
      return;
    }
    for (const reply of replies) {
      for (const line of reply.lines) this.log({ direction: 'recv', text: line });
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(reply);
      else this.queue.push(reply);
    }
  }
}

/** Opens the TCP (and for implicit FTPS, TLS) socket, honouring timeout and signal. */
function connectSocket(options: ControlOptions): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const { host, port, implicitTls, signal } = options;
    const socket: net.Socket = implicitTls ? tls.connect({ ...implicitTls, host, port }) : net.connect({ host, port });
    const event = implicitTls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => finish(new FtpTimeoutError(`connecting to ${host}:${port} timed out`)), options.timeout);
    const onAbort = (): void => finish(new FtpAbortError('operation aborted'));
    const onError = (err: Error): void => finish(new FtpConnectionClosedError(`cannot connect to ${host}:${port}: ${err.message}`));
    const onConnect = (): void => finish();
    function finish(err?: Error): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener(event, onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        socket.setNoDelay(true);
        resolve(socket);
      }
    }
    if (signal?.aborted) {
      finish(new FtpAbortError('operation aborted'));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once(event, onConnect);
  });
}

/** Resolves when the TLS handshake completes; rejects on error or timeout. */
export function waitSecure(socket: tls.TLSSocket, timeout: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new FtpTimeoutError('TLS handshake timed out')), timeout);
    const onError = (err: Error): void => done(err);
    const onSecure = (): void => done();
    function done(err?: Error): void {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('secureConnect', onSecure);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve();
    }
    socket.once('error', onError);
    socket.once('secureConnect', onSecure);
  });
}
