/**
 * The login decision, for every protocol: user or anonymous, the e-mail
 * rule, the anonymous cap, the failure throttle and bans, opening the
 * account's storage. A protocol asks, gets an account or a verdict, and
 * only words the reply.
 */
import type { UserConfig, WharfConfig } from '../config/load.js';
import type { LoginFailure, ServerEvents, SessionRef } from '../events/events.js';
import { StateUnavailableError, type SharedState } from '../state/types.js';
import type { Vfs } from '../vfs/types.js';
import type { Account } from './account.js';
import { userAccess, type Access } from './access.js';
import { isAnonymousName, looksLikeEmail, UserStore } from './users.js';
import { parseHours, withinHours } from '../config/hours.js';

/** Anonymous access, when enabled. */
export interface AnonymousArea {
  vfs: Vfs;
  /** Virtual path of the drop box, if any. */
  uploadDir?: string;
  /** The access rules, shared by every anonymous session. */
  access: Access;
}

/**
 * A public-key proof, checked by the protocol that received it (the auth
 * room knows which keys an account accepts, not the wire format).
 */
export interface KeyProof {
  /** True when `authorizedKey` (an OpenSSH public key line) is the key offered and its signature verifies. */
  matches(authorizedKey: string): boolean;
}

/** A login attempt: with a password, or with a public key (SFTP). */
export type LoginRequest = SessionRef & { user: string } & ({ password: string; key?: undefined } | { key: KeyProof; password?: undefined });

/** The outcome of a login attempt. */
export type LoginResult =
  | { ok: true; account: Account }
  | {
      ok: false;
      reason: LoginFailure;
      /** Words for the client, safe to show. */
      text: string;
      /** How long to wait before answering (the throttle). */
      delayMs: number;
      /** True when the address is now banned. */
      banned: boolean;
      /** True when the connection should be closed after answering. */
      fatal: boolean;
    };

/** What the login service works with. */
export interface LoginServiceOptions {
  config: WharfConfig;
  state: SharedState;
  events: ServerEvents;
  anonymous: AnonymousArea | null;
  /** Opens a user's home (cached by the caller). */
  openHome(user: UserConfig): Promise<Vfs>;
  /** The time, for anonymous hours (default: the system clock). */
  clock?: () => Date;
}

/** Decides logins for every protocol. */
export class LoginService {
  private users: UserStore;

  constructor(private o: LoginServiceOptions) {
    this.users = new UserStore(o.config.users);
  }

  /** Takes the users and anonymous hours of a reloaded config; logins from now on use them. */
  reload(config: WharfConfig): void {
    this.o = { ...this.o, config };
    this.users = new UserStore(config.users);
  }

  /**
   * Outside the anonymous `hours`: the words that say when to come back;
   * null inside them (or when no hours are set).
   */
  anonymousClosed(): string | null {
    const cfg = this.o.config.anonymous;
    const window = cfg?.hours === undefined ? null : parseHours(cfg.hours);
    if (!cfg || !window) return null;
    if (withinHours(window, cfg.timezone, (this.o.clock ?? (() => new Date()))())) return null;
    return `Anonymous access is allowed only ${window.text} (${cfg.timezone}); please come back then.`;
  }

  /** True when `name` means anonymous and anonymous access is on. */
  anonymousAllowed(name: string, protocol: SessionRef['protocol'] = 'ftp'): boolean {
    return isAnonymousName(name) && this.o.anonymous !== null && this.anonymousOver(protocol);
  }

  /**
   * True when a key (not yet signed) would be accepted for `user`: SSH asks
   * before the client signs. Decides nothing and counts nothing.
   */
  keyAcceptable(user: string, key: KeyProof): boolean {
    return this.users.withKey(user, key) !== null;
  }

  /** Decides a login; emits `login`, `login-failed` and `ban`. */
  async login(req: LoginRequest): Promise<LoginResult> {
    const result = await (isAnonymousName(req.user) ? this.anonymous(req) : this.user(req)).catch(unavailable);
    if (result.ok) {
      const { account } = result;
      this.o.events.emit('login', { ...ref(req), user: account.name, anonymous: account.anonymous, ident: account.ident });
    } else {
      this.o.events.emit('login-failed', { ...ref(req), user: req.user.slice(0, 64), reason: result.reason });
    }
    return result;
  }

  private async anonymous(req: LoginRequest): Promise<LoginResult> {
    const area = this.o.anonymous;
    const cfg = this.o.config.anonymous;
    if (!area || !cfg || !this.anonymousOver(req.protocol)) return this.failed(req, 'anonymous-disabled', 'This server does not allow anonymous logins.');
    const closed = this.anonymousClosed();
    if (closed) return { ok: false, reason: 'outside-hours', text: closed, delayMs: 0, banned: false, fatal: true };
    if (req.password === undefined) return this.failed(req, 'bad-credentials', 'Anonymous logins use a password (your e-mail address).');
    if (cfg.require_email && !looksLikeEmail(req.password)) return this.failed(req, 'email-required', 'Please use your e-mail address as the password.');
    const state = this.o.state;
    if (!(await state.takeAnonymous())) {
      const text = `Too many anonymous users (the limit is ${cfg.max_connections}); please try again later.`;
      return { ok: false, reason: 'anonymous-full', text, delayMs: 0, banned: false, fatal: true };
    }
    let released = false;
    const account: Account = {
      name: 'anonymous',
      anonymous: true,
      vfs: area.vfs,
      access: area.access,
      maxRate: cfg.max_rate,
      ident: req.password.slice(0, 128),
      release: () => {
        // A shared state that fails must not crash the server: its own expiry frees the slot.
        if (!released) state.releaseAnonymous().catch(() => undefined);
        released = true;
      },
    };
    return { ok: true, account };
  }

  /** Anonymous is offered over FTP when enabled, over SFTP only with `[sftp] anonymous`. */
  private anonymousOver(protocol: SessionRef['protocol']): boolean {
    return protocol !== 'sftp' || this.o.config.sftp?.anonymous === true;
  }

  private async user(req: LoginRequest): Promise<LoginResult> {
    const found = req.key ? this.users.withKey(req.user, req.key) : await this.users.authenticate(req.user, req.password);
    if (!found) return this.failed(req, 'bad-credentials', 'Login incorrect.');
    await this.o.state.loginSucceeded(req.remote);
    let vfs: Vfs;
    try {
      vfs = await this.o.openHome(found);
    } catch {
      return { ok: false, reason: 'home-unavailable', text: 'Login failed: home directory unavailable.', delayMs: 0, banned: false, fatal: false };
    }
    const access = userAccess(found.permissions);
    return { ok: true, account: { name: found.name, anonymous: false, vfs, access, maxRate: found.maxRate, release: () => undefined } };
  }

  /** A failure that counts against the address: throttle, maybe a ban. */
  private async failed(req: LoginRequest, reason: LoginFailure, text: string): Promise<LoginResult> {
    const verdict = await this.o.state.loginFailed(req.remote);
    if (verdict.banned) {
      const seconds = this.o.config.server.ban_time;
      this.o.events.emit('ban', { remote: req.remote, seconds });
      return { ok: false, reason, text: `${text} Too many failed logins from your address; closing control connection.`, delayMs: 0, banned: true, fatal: true };
    }
    return { ok: false, reason, text, delayMs: verdict.delayMs, banned: false, fatal: false };
  }
}

/** A shared state that cannot decide (Redis down, `on_failure = "closed"`) refuses the login and ends the connection. */
function unavailable(err: unknown): LoginResult {
  if (!(err instanceof StateUnavailableError)) throw err;
  return { ok: false, reason: 'state-unavailable', text: `Service not available (${err.message}); please try again later.`, delayMs: 0, banned: false, fatal: true };
}

function ref(r: SessionRef): SessionRef {
  return { session: r.session, protocol: r.protocol, remote: r.remote };
}
