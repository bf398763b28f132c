/**
 * Who each TLS context issued its sessions to. Every control connection
 * has its own context with its own ticket key, so the key name at the
 * head of a ticket says which control connection the TLS session was
 * first negotiated on. A data connection may resume a session of its own
 * control connection, or of a sibling one: a control connection of this
 * server from the same client address logged in as the same account
 * (clients such as rclone share one TLS session cache among their
 * parallel connections). A sibling still logging in is waited for (its
 * ticket is cached by the client before it has sent its password); one
 * that has ended counts as it was when it ended, for the tickets' lifetime
 * (an hour), so a client's pool closing a connection does not strand the
 * tickets its others hold. Anything else is not resumed.
 */
import type { SecureContext } from 'node:tls';
import type { LoginState } from '../session/types.js';
import { KEY_NAME_BYTES } from './hello.js';

/** The control connection a context belongs to, as the check reads it. */
export interface TlsOwner {
  readonly remoteAddress: string;
  readonly login: LoginState;
}

/** A logged-in client: its address and account. */
interface Who {
  address: string;
  account: string;
}

interface Issuer {
  readonly name: string;
  readonly keys: Buffer;
  readonly registry: TicketIssuers;
  /** Set while the control connection is open. */
  context: SecureContext | null;
  owner: TlsOwner | null;
  /** Once ended: who it was, and until when its tickets count. */
  last: Who | null;
  until: number;
}

/** The context to handshake with, or: wait for a sibling's login to settle and ask again. */
export type Choice = { context: SecureContext } | { wait: true };

/** How long the tickets of an ended control connection still count: their lifetime. */
export const RETAIN_MS = 3600 * 1000;
/** Most ended control connections remembered; the oldest are forgotten first. */
const MAX_RETIRED = 1000;

/**
 * A side table from a context to its entry, so a data connection, which is
 * handed only its session's context, finds the registry of its server.
 */
const entries = new WeakMap<SecureContext, Issuer>();

function whoOf(owner: TlsOwner): Who | null {
  if (owner.login.kind !== 'logged-in') return null;
  const { account } = owner.login;
  return { address: owner.remoteAddress, account: `${account.anonymous ? 'anonymous' : 'user'}:${account.name}` };
}

/** The contexts of one server's control connections, by ticket key name. */
export class TicketIssuers {
  /** Open control connections, by ticket key name. */
  private readonly live = new Map<string, Issuer>();
  /** Ended ones, oldest first. */
  private readonly retired = new Map<string, Issuer>();
  /** Data connections waiting for a sibling's login to settle. */
  private readonly waiters = new Set<() => void>();

  /** `build` makes a context with given ticket keys (for an ended sibling's tickets). */
  constructor(
    private readonly build: (ticketKeys: Buffer) => SecureContext,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a new control connection's context and its ticket keys. */
  add(context: SecureContext, ticketKeys: Buffer): void {
    const name = ticketKeys.subarray(0, KEY_NAME_BYTES).toString('hex');
    const entry: Issuer = { name, keys: ticketKeys, registry: this, context, owner: null, last: null, until: 0 };
    this.live.set(name, entry);
    entries.set(context, entry);
  }

  /** Records which control connection uses `context`. */
  own(context: SecureContext, owner: TlsOwner): void {
    const entry = entries.get(context);
    if (entry?.registry === this) entry.owner = owner;
  }

  /**
   * The control connection of `context` has ended: its tickets count for
   * siblings as it was now (not at all if it was not logged in). False when
   * `context` was not (or no longer) a live one of this registry.
   */
  retire(context: SecureContext): boolean {
    const entry = entries.get(context);
    if (entry?.registry !== this || !entry.context) return false;
    entries.delete(context);
    this.live.delete(entry.name);
    entry.last = entry.owner && whoOf(entry.owner);
    entry.owner = null;
    entry.context = null;
    const now = this.now();
    entry.until = now + RETAIN_MS;
    if (entry.last) this.retired.set(entry.name, entry);
    for (const [name, e] of this.retired) {
      if (this.retired.size <= MAX_RETIRED && e.until > now) break;
      this.retired.delete(name);
    }
    this.settled();
    return true;
  }

  /**
   * A login was decided or undone on this server: waiting data connections
   * ask again, once the session has taken the outcome in (a turn later: the
   * events come before the session's login state changes).
   */
  settled(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    setImmediate(() => {
      for (const wake of waiters) wake();
    });
  }

  /** Calls `wake` at the next `settled`; returns a function that cancels. */
  onSettled(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  /** Number of entries: open control connections and remembered ended ones. */
  get size(): number {
    return this.live.size + this.retired.size;
  }

  /** Whether `other`'s tickets may serve a data connection of `me`: yes, not yet (still logging in), or no. */
  private judge(other: Issuer, me: Who): 'use' | 'wait' | 'skip' {
    if (other.owner) {
      if (other.owner.remoteAddress !== me.address) return 'skip';
      const who = whoOf(other.owner);
      if (!who) return 'wait';
      return who.account === me.account ? 'use' : 'skip';
    }
    const who = other.until > this.now() ? other.last : null;
    return who?.address === me.address && who.account === me.account ? 'use' : 'skip';
  }

  /** The registry `context` belongs to, while its control connection is open. */
  static of(context: SecureContext): TicketIssuers | null {
    const entry = entries.get(context);
    return entry?.owner ? entry.registry : null;
  }

  /**
   * The context a data connection of `own`'s session should handshake
   * with, given the ticket key names its ClientHello offers: the first
   * named issuer whose control connection is (or, ended, was) from the same
   * address and logged in as the same account; a wait while such a
   * connection is still logging in; else `own` (a foreign ticket then
   * fails to decrypt, and the data connection is not a resumption).
   */
  static choose(own: SecureContext, names: readonly Buffer[]): Choice {
    const mine = entries.get(own);
    const me = mine?.owner && whoOf(mine.owner);
    if (!mine || !me) return { context: own };
    const registry = mine.registry;
    for (const name of names) {
      const hex = name.toString('hex');
      const other = registry.live.get(hex) ?? registry.retired.get(hex);
      if (!other) continue;
      if (other === mine) return { context: own };
      const verdict = registry.judge(other, me);
      if (verdict === 'wait') return { wait: true };
      if (verdict === 'use') return { context: other.context ?? registry.build(other.keys) };
    }
    return { context: own };
  }
}
