/**
 * One control connection: reads lines, answers them in order through the
 * command table, and owns the session's timers and data channel.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { LineDecoder } from '../../protocol/lineDecoder.js';
import { parseCommand, redactCommand } from '../../protocol/command.js';
import { formatReply, reply, type Reply } from '../../protocol/reply.js';
import { normalizeAddress } from '../../protocol/address.js';
import { MLST_FACTS, type MlstFact } from '../../protocol/listing/mlsx.js';
import { DataChannel } from '../data/channel.js';
import type { ServerContext } from '../context.js';
import { dispatch } from './dispatch.js';
import { isAuthLine } from '../tls/commands.js';
import type { SessionInfo } from '../../core/sessions.js';
import type { ActiveTransfer, LoginState, Session, SessionTls } from './types.js';

const MAX_QUEUE = 64;
const ALL_FACTS: Set<MlstFact> = new Set(MLST_FACTS);
/** Longest command line accepted (bytes, without CR LF); a longer one gets one 500 at its end. */
const MAX_LINE = 4096;
/** Longest run without a line feed before the peer is taken for a flood (one 421, then close). */
const MAX_FLOOD = 256 * 1024;
const MAX_UNREAD_REPLIES = 64 * 1024;
const FAIR_BATCH = 16;

/** Resolves when a socket's write buffer has drained (or it closed). */
export function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/** A control connection and its state. */
export class FtpSession implements Session {
  login: LoginState = { kind: 'greeted' };
  cwd = '/';
  type: 'A' | 'I' = 'A';
  restOffset = 0;
  renameFrom: string | null = null;
  epsvAll = false;
  utf8 = true;
  /** Shared until OPTS MLST replaces it (saves a Set per idle session). */
  mlstFacts: Set<MlstFact> = ALL_FACTS;
  loginFailures = 0;
  tls: SessionTls | null = null;
  private current: ActiveTransfer | null = null;
  private transferEndHooks: (() => boolean)[] = [];
  abortedTransfer = false;
  readonly remoteAddress: string;
  readonly localAddress: string;
  private dataChannel: DataChannel | null = null;

  private readonly decoder = new LineDecoder(MAX_LINE, MAX_FLOOD);
  /** Raw bytes held back after an AUTH line, until it is answered. */
  private held: Buffer[] | null = null;
  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);
  /** Lines waiting for their turn; null: a line that was too long. */
  private readonly queue: (string | null)[] = [];
  private running = false;
  private closed = false;
  /** When the login time runs out (ms since the epoch). */
  private loginDeadline = 0;
  /** When the idle time runs out; 0 while not logged in, in a transfer or closed. */
  private idleDeadline = 0;
  /** Resolves when the session has ended, for graceful shutdown. */
  readonly ended: Promise<void>;
  private markEnded!: () => void;
  private cleanedUp = false;

  constructor(
    readonly id: number,
    public socket: Socket,
    readonly server: ServerContext,
    /** For implicit FTPS: the socket is already TLS with this state. */
    tls: SessionTls | null = null,
    /** The client's address when it is not the socket's peer (a PROXY header named it). */
    remote?: string,
  ) {
    this.tls = tls;
    this.remoteAddress = remote ?? normalizeAddress(socket.remoteAddress);
    this.localAddress = normalizeAddress(socket.localAddress);
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
  }

  /** The data channel, made on first use (an idle session has none). */
  get data(): DataChannel {
    if (this.dataChannel) return this.dataChannel;
    const cfg = this.server.config.server;
    const proxy = this.server.proxy;
    this.dataChannel = new DataChannel({
      pool: this.server.passivePool,
      peerAddress: this.remoteAddress,
      allowForeign: cfg.allow_foreign_data_address,
      localAddress: this.localAddress,
      timeoutMs: cfg.data_timeout * 1000,
      onForeign: (from) => this.log.warn({ event: 'foreign-data-connection', from }, 'refused a passive data connection from another address'),
      peerOf: proxy?.enabled ? (s) => proxy.acceptData(s).then((peer) => peer?.address ?? null) : undefined,
    });
    return this.dataChannel;
  }

  /** The transfer in progress, if any. */
  get transfer(): ActiveTransfer | null {
    return this.current;
  }

  set transfer(t: ActiveTransfer | null) {
    this.current = t;
    if (t === null) this.transferEndHooks = this.transferEndHooks.filter((hook) => !hook());
  }

  /** Calls `hook` after each transfer until it returns true. */
  onTransferEnd(hook: () => boolean): void {
    this.transferEndHooks.push(hook);
  }

  /** The session's logger. */
  get log() {
    return this.server.log;
  }

  /** Greets the client and starts reading. */
  start(greeting: Reply): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', this.onDataBound);
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => this.cleanup());
    this.send(greeting);
    this.loginDeadline = Date.now() + this.server.config.server.login_timeout * 1000;
  }

  send(r: Reply): void {
    if (this.closed || this.socket.destroyed) return;
    this.countReply(r.code);
    this.socket.write(formatReply(r));
  }

  private countReply(code: number): void {
    const replies = this.server.replies;
    const c = (code / 100) | 0;
    replies[c] = (replies[c] ?? 0) + 1;
  }

  /** The session as the admin console lists it. */
  info(now: number): SessionInfo {
    const cfg = this.server.config.server;
    const account = this.login.kind === 'logged-in' ? this.login.account : null;
    const connectedAt = this.loginDeadline - cfg.login_timeout * 1000;
    const t = this.current;
    const idle = this.idleDeadline > 0 ? cfg.idle_timeout - (this.idleDeadline - now) / 1000 : account || t ? 0 : (now - connectedAt) / 1000;
    return {
      id: this.id,
      user: account?.name ?? null,
      anonymous: account?.anonymous ?? false,
      address: this.remoteAddress,
      protocol: this.tls ? 'ftps' : 'ftp',
      secure: this.tls !== null,
      cwd: this.cwd,
      connectedAt,
      idleSeconds: Math.max(0, Math.round(idle)),
      transfer: t ? { path: t.path, direction: t.direction, bytes: t.bytes(), size: t.size } : null,
    };
  }

  async sendLines(head: string, body: AsyncIterable<string>): Promise<void> {
    const socket = this.socket;
    socket.write(head);
    for await (const chunk of body) {
      if (this.closed || socket.destroyed) return;
      if (!socket.write(chunk)) await drained(socket);
    }
  }

  sendAndFlush(r: Reply): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.socket.destroyed) return resolve();
      this.countReply(r.code);
      this.socket.write(formatReply(r), () => resolve());
    });
  }

  upgradeToTls(): void {
    const tlsMaterial = this.server.tls;
    if (!tlsMaterial) return this.releaseHold();
    const raw = this.socket;
    if (this.closed || raw.destroyed) return;
    raw.off('data', this.onDataBound);
    const held = this.held ?? [];
    this.held = null;
    if (held.length > 0) raw.unshift(Buffer.concat(held));
    const context = tlsMaterial.newContext();
    tlsMaterial.own(context, this);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    secure.on('error', (err: Error) => {
      this.log.info({ event: 'tls-failed', session: this.id, remote: this.remoteAddress, err: err.message }, 'TLS negotiation failed');
      secure.destroy();
      raw.destroy();
    });
    // A client that closes during the handshake is gone: nothing can be sent to it any more.
    const abandoned = () => secure.destroy();
    secure.once('end', abandoned);
    secure.once('secure', () => secure.off('end', abandoned));
    secure.once('close', () => {
      raw.destroy();
      this.cleanup();
    });
    secure.on('data', this.onDataBound);
    this.socket = secure;
    this.tls = { context, pbsz: false, prot: 'C' };
  }

  releaseHold(): void {
    const held = this.held;
    this.held = null;
    for (const chunk of held ?? []) this.onData(chunk);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.idleDeadline = 0;
    this.socket.end();
    // A peer that never reads its last replies must not hold the socket.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Ends the session with a 421 (shutdown, timeouts). */
  terminate(text: string): void {
    this.send(reply(421, text));
    this.transfer?.abort();
    this.close();
  }

  private onData(chunk: Buffer): void {
    if (this.held) {
      this.held.push(chunk);
      return;
    }
    const watchAuth = this.server.tls !== null && this.tls === null;
    const events = this.decoder.push(chunk, watchAuth ? isAuthLine : undefined);
    if (events.rest) this.held = [Buffer.from(events.rest)];
    // One event per line, so each line gets exactly one answer: its own,
    // a 500 when it was too long (sent at its end), or, for a line that runs
    // on past MAX_FLOOD without ending, the 421 that closes the session.
    for (const ev of events) {
      if (ev.kind === 'line') this.enqueue(ev.line);
      else if (ev.kind === 'too-long') this.enqueue(null);
      else {
        this.log.warn({ event: 'flood', session: this.id, remote: this.remoteAddress }, 'command line flood; closing');
        this.terminate('Command line too long; closing control connection.');
        return;
      }
    }
  }

  /** Queues a line (null: a line that was too long). */
  private enqueue(line: string | null): void {
    if (this.closed) return;
    if (line !== null && this.transfer) {
      const verb = parseCommand(line)?.verb;
      if (verb && this.server.commands.get(verb)?.urgent && this.queue.length === 0) {
        if (verb === 'ABOR') this.transfer.abort();
        else if (line.trim().length === 4) {
          this.send(reply(213, [`Status: ${this.transfer.description}`, `${this.transfer.bytes()} bytes transferred so far.`, 'End of status']));
          return;
        }
      }
    }
    this.queue.push(line);
    if (this.queue.length >= MAX_QUEUE) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let handled = 0;
      while (this.queue.length > 0 && !this.closed) {
        // Let other sessions run between batches: one client's pipelined
        // flood must not hold the event loop.
        if (++handled % FAIR_BATCH === 0) await new Promise((r) => setImmediate(r));
        const line = this.queue.shift() as string | null;
        if (this.queue.length < MAX_QUEUE / 2) this.socket.resume();
        this.armTimer();
        if (line === null) {
          this.send(reply(500, 'Command line too long.'));
          continue;
        }
        const r = await dispatch(this, line);
        if (r) this.send(r);
        this.armTimer();
        // A client that sends commands but never reads the replies must not
        // make us buffer them without bound.
        if (this.socket.writableLength > MAX_UNREAD_REPLIES) await drained(this.socket);
      }
    } catch (err) {
      this.log.error({ err, session: this.id }, 'session failed');
      this.terminate('Internal error; closing control connection.');
    } finally {
      this.running = false;
    }
  }

  /** True once the client has closed (or half-closed) the control connection. */
  get controlGone(): boolean {
    return this.closed || this.socket.destroyed || this.socket.readableEnded;
  }

  /** Logs a command that failed (reply 4xx or 5xx). */
  logFailure(verb: string, arg: string, r: Reply): void {
    if (r.code < 400) return;
    const user = this.login.kind === 'logged-in' ? this.login.account.name : undefined;
    this.log.info({ event: 'command-failed', session: this.id, remote: this.remoteAddress, user, command: redactCommand(verb, arg), code: r.code }, r.lines.join(' '));
  }

  /**
   * (Re)arms the idle deadline once logged in; idle time does not run during
   * a transfer. Before login only the login deadline (set once at connect)
   * counts. No timer per session: the server checks deadlines in one sweep.
   */
  armTimer(): void {
    const idle = !this.closed && !this.transfer && this.login.kind === 'logged-in';
    this.idleDeadline = idle ? Date.now() + this.server.config.server.idle_timeout * 1000 : 0;
  }

  /** Ends the session with a 421 when its login or idle time has run out. */
  checkTimeouts(now: number): void {
    if (this.closed) return;
    const cfg = this.server.config.server;
    if (this.login.kind !== 'logged-in') {
      if (now < this.loginDeadline) return;
      this.log.info({ event: 'timeout', session: this.id, remote: this.remoteAddress, kind: 'login' }, 'login timed out');
      this.terminate(`Login timeout (${cfg.login_timeout} seconds): closing control connection.`);
    } else if (this.idleDeadline !== 0 && now >= this.idleDeadline) {
      this.log.info({ event: 'timeout', session: this.id, remote: this.remoteAddress, kind: 'idle' }, 'session timed out');
      this.terminate(`Idle timeout (${cfg.idle_timeout} seconds): closing control connection.`);
    }
  }

  /** Once, when the connection has closed (after AUTH TLS both the TLS socket and the one under it report it). */
  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    if (this.tls) this.server.tls?.retire(this.tls.context);
    this.closed = true;
    this.idleDeadline = 0;
    this.transfer?.abort();
    this.dataChannel?.close();
    this.queue.length = 0;
    this.markEnded();
  }
}
