/**
 * Typed server events. Every protocol emits them through one `ServerEvents`
 * emitter; the JSON log and the xferlog are subscribers, and so is anyone
 * embedding the server (`server.on('transfer', ...)`).
 */
import { EventEmitter } from 'node:events';

/** The way in a session uses (`http` for the web view, over HTTP or HTTPS). */
export type Protocol = 'ftp' | 'ftps' | 'sftp' | 'http';

/** Which session an event belongs to. */
export interface SessionRef {
  /** Unique per server. */
  session: number;
  protocol: Protocol;
  /** The client's address. */
  remote: string;
}

/** A new connection. */
export interface ConnectEvent extends SessionRef {
  /** The balancer that named the client in a PROXY header (`remote` is the client). */
  proxy?: string;
}

/** A session that has logged in. */
export interface UserRef extends SessionRef {
  /** The account name (`anonymous` for anonymous sessions). */
  user: string;
  anonymous: boolean;
}

/** A connection refused before a session began. */
export interface RefusedEvent {
  remote: string;
  /** `anonymous-full`, `outside-hours`: a web view connection over the anonymous `max_connections`, or outside the anonymous `hours`. */
  reason: 'banned' | 'total' | 'per-ip' | 'closing' | 'anonymous-full' | 'outside-hours';
}

/** A login. */
export interface LoginEvent extends UserRef {
  /** For anonymous: the password given (an e-mail address, by custom), cut to 128 characters. */
  ident?: string;
}

/** Why a login failed. */
export type LoginFailure =
  'bad-credentials' | 'email-required' | 'anonymous-disabled' | 'anonymous-full' | 'outside-hours' | 'home-unavailable' | 'tls-required' | 'state-unavailable';

/** A failed login. */
export interface LoginFailedEvent extends SessionRef {
  user: string;
  reason: LoginFailure;
}

/** An address banned after too many failed logins (or by hand). */
export interface BanEvent {
  remote: string;
  seconds: number;
}

/** A file transfer, when it starts. */
export interface TransferStartEvent extends UserRef {
  direction: 'upload' | 'download';
  /** The virtual path, e.g. `/pub/file.iso`. */
  path: string;
  /** Where it starts in the file (REST). */
  offset: number;
}

/** A transfer in progress (at most once a second per transfer). */
export interface TransferProgressEvent extends TransferStartEvent {
  bytes: number;
}

/** A finished file transfer, complete or not. */
export interface TransferEvent extends TransferStartEvent {
  bytes: number;
  seconds: number;
  /** True when every byte arrived (and, for an upload, the file is in place). */
  ok: boolean;
  /** The transfer type: 'binary' or 'ascii'. */
  mode: 'binary' | 'ascii';
  /** For anonymous: the password given. */
  ident?: string;
}

/** A change to the tree. */
export interface FileEvent extends UserRef {
  path: string;
}

/** A rename. */
export interface RenameEvent extends UserRef {
  path: string;
  from: string;
}

/** The event map: name to listener arguments. */
export interface ServerEventMap {
  connect: [ConnectEvent];
  disconnect: [SessionRef];
  'connection-refused': [RefusedEvent];
  login: [LoginEvent];
  'login-failed': [LoginFailedEvent];
  logout: [UserRef];
  ban: [BanEvent];
  'transfer-start': [TransferStartEvent];
  'transfer-progress': [TransferProgressEvent];
  transfer: [TransferEvent];
  mkdir: [FileEvent];
  rmdir: [FileEvent];
  delete: [FileEvent];
  rename: [RenameEvent];
}

/** The names of the server's events. */
export type ServerEventName = keyof ServerEventMap;

/** The emitter every protocol reports to. */
export class ServerEvents extends EventEmitter<ServerEventMap> {
  constructor() {
    super({ captureRejections: false });
    // Many subscribers (log, xferlog, metrics, hooks, users) are normal.
    this.setMaxListeners(64);
  }

  /**
   * Emits an event; a listener that throws is reported on 'error' listeners
   * if any (else ignored), never to the session that emitted.
   */
  override emit<K extends ServerEventName>(name: K, ...args: ServerEventMap[K]): boolean {
    const emit = (n: string, ...a: unknown[]): boolean => (EventEmitter.prototype.emit as (this: EventEmitter, n: string, ...a: unknown[]) => boolean).call(this, n, ...a);
    try {
      return emit(name, ...args);
    } catch (err) {
      if (this.listenerCount('error' as never) > 0) emit('error', err);
      return true;
    }
  }
}
