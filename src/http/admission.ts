/**
 * Admission of web view connections through the shared state, as FTP and
 * SFTP admit theirs: each TCP connection counts against `max_connections`
 * and `max_connections_per_ip` (bans refuse it), and, being an anonymous
 * visitor, holds one anonymous slot (the anonymous `max_connections`,
 * counted with FTP's anonymous sessions) until it closes; outside the
 * anonymous `hours` it is refused. A refused connection's requests are
 * answered 503 with the reason, then it is cut.
 *
 * The verdict is looked up by the connection's peer address and port:
 * over HTTPS, requests arrive on the TLS socket made from the TCP socket
 * admitted here, and the pair is the same on both.
 */
import type { Socket } from 'node:net';
import type { Core } from '../core/context.js';
import type { SessionInfo } from '../core/sessions.js';
import type { RefusedEvent, UserRef } from '../events/events.js';
import { peerOf } from '../core/proxy.js';
import { StateUnavailableError, type Admission } from '../state/types.js';
import type { HttpSession } from './context.js';

/** How long a refused connection may stay to read its 503. */
const REFUSED_LINGER_MS = 2000;

/** A connection's verdict: a session, or why it is refused. */
export type Verdict = { ok: true; session: HttpSession } | { ok: false; reason: RefusedEvent['reason'] | 'error'; text: string; retryAfter: number };

/** The key of a connection: its peer's address and port. */
function peerKey(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

/** The words of a refusal. */
function refusal(a: Exclude<Admission, { ok: true }>): Verdict {
  if (a.reason === 'banned') return { ok: false, reason: 'banned', text: `Too many failed logins from your address; try again in ${a.seconds} seconds.`, retryAfter: a.seconds };
  const text =
    a.reason === 'total'
      ? `Too many connections (the server limit is ${a.limit}); please try again later.`
      : `Too many connections from your address (the limit is ${a.limit}); please try again later.`;
  return { ok: false, reason: a.reason, text, retryAfter: 30 };
}

/** The admissions of one web view listener. */
export class Admissions {
  private readonly byPeer = new Map<string, Promise<Verdict>>();
  /** Admitted connections, by session id. */
  private readonly open = new Map<number, { session: HttpSession; socket: Socket }>();

  constructor(
    private readonly core: Core,
    private readonly secure: boolean,
  ) {}

  /** The admitted connections, as the admin console lists them. */
  sessions(now = Date.now()): SessionInfo[] {
    return [...this.open.values()].map(({ session: s }) => ({
      id: s.ref.session,
      user: s.ref.user,
      anonymous: true,
      address: s.ref.remote,
      protocol: 'http' as const,
      secure: s.secure,
      cwd: s.cwd,
      connectedAt: s.connectedAt,
      idleSeconds: s.transfer ? 0 : Math.max(0, Math.round((now - s.lastActive) / 1000)),
      transfer: s.transfer && { ...s.transfer },
    }));
  }

  /** Closes connection `id` (a running download is cut); false when there is none. */
  disconnect(id: number): boolean {
    const conn = this.open.get(id);
    conn?.socket.destroy();
    return conn !== undefined;
  }

  /** Admits a new TCP connection (from the listener's `connection` event). */
  add(socket: Socket): void {
    if (socket.remoteAddress === undefined) return void socket.destroy();
    const key = peerKey(socket);
    // The client: the socket's peer, or the one a trusted balancer's PROXY header named.
    const peer = peerOf(socket);
    const ip = peer.address;
    const verdict = this.decide(ip, peer.proxy);
    this.byPeer.set(key, verdict);
    let linger: NodeJS.Timeout | undefined;
    socket.once('close', () => {
      clearTimeout(linger);
      if (this.byPeer.get(key) === verdict) this.byPeer.delete(key);
      void verdict.then((v) => v.ok && this.leave(v.session.ref));
    });
    void verdict.then((v) => {
      if (v.ok && !socket.destroyed) this.open.set(v.session.ref.session, { session: v.session, socket });
      else if (!v.ok && !socket.destroyed) linger = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
    });
  }

  /** The verdict on the connection a request came on (undefined when unknown: refuse it). */
  verdict(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): Promise<Verdict> | undefined {
    return this.byPeer.get(peerKey(socket));
  }

  private async decide(ip: string, proxy: string | null): Promise<Verdict> {
    const { core } = this;
    if (core.closing) return this.refuse(ip, { ok: false, reason: 'closing', text: 'The server is shutting down; please try again later.', retryAfter: 30 });
    let admission: Admission;
    try {
      admission = await core.state.admit(ip);
    } catch (err) {
      // A shared state that is down (on_failure = "closed") has said so once.
      const down = err instanceof StateUnavailableError;
      if (!down) core.log.error({ err, remote: ip }, 'admission failed');
      return { ok: false, reason: 'error', text: `Service not available${down ? ` (${err.message})` : ''}; please try again later.`, retryAfter: 30 };
    }
    if (!admission.ok) return this.refuse(ip, refusal(admission));
    // Outside the anonymous hours the archive is closed to anonymous visitors, on the web too.
    const closed = core.auth.anonymousClosed();
    if (closed) {
      this.release(ip);
      return this.refuse(ip, { ok: false, reason: 'outside-hours', text: closed, retryAfter: 600 });
    }
    const anonymous = await core.state.takeAnonymous().catch((err: unknown) => {
      core.log.error({ err, remote: ip }, 'taking an anonymous slot failed');
      return false;
    });
    if (!anonymous) {
      this.release(ip);
      const limit = core.config.anonymous?.max_connections ?? 0;
      return this.refuse(ip, { ok: false, reason: 'anonymous-full', text: `Too many anonymous users (the limit is ${limit}); please try again later.`, retryAfter: 30 });
    }
    const ref: UserRef = { session: core.nextSessionId(), protocol: 'http', remote: ip, user: 'anonymous', anonymous: true };
    core.events.emit('connect', { session: ref.session, protocol: ref.protocol, remote: ip, ...(proxy ? { proxy } : {}) });
    const now = Date.now();
    return { ok: true, session: { ref, secure: this.secure, connectedAt: now, lastActive: now, cwd: '/', transfer: null } };
  }

  private refuse(ip: string, v: Verdict): Verdict {
    if (!v.ok && v.reason !== 'error') this.core.events.emit('connection-refused', { remote: ip, reason: v.reason });
    return v;
  }

  /** A connection has closed: its slots go back. */
  private leave(ref: UserRef): void {
    this.open.delete(ref.session);
    this.release(ref.remote);
    this.core.state.releaseAnonymous().catch((err: unknown) => this.core.log.error({ err, remote: ref.remote }, 'releasing an anonymous slot failed'));
    this.core.events.emit('disconnect', { session: ref.session, protocol: ref.protocol, remote: ref.remote });
  }

  private release(ip: string): void {
    this.core.state.release(ip).catch((err: unknown) => this.core.log.error({ err, remote: ip }, 'releasing a connection slot failed'));
  }
}
