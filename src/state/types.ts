/**
 * The state every protocol and every process of one archive shares:
 * connection counts (total, per address, anonymous), the login-failure
 * throttle and bans. Async, so a shared implementation (Redis) can stand
 * in for the in-memory one without touching the protocols; each decision
 * on the connection and login paths is one call (one round trip).
 */

/** The caps and throttle settings a state enforces. */
export interface StateLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxAnonymous: number;
  /** Delay before answering the first failed login; doubles per failure, capped at 16x. */
  loginFailureDelayMs: number;
  /** Failed logins from one address (across connections and protocols) before a ban. */
  banThreshold: number;
  banSeconds: number;
}

/** The verdict on a new connection. */
export type Admission = { ok: true } | { ok: false; reason: 'banned'; seconds: number } | { ok: false; reason: 'total' | 'per-ip'; limit: number };

/** The verdict on one failed login. */
export interface FailureVerdict {
  /** How long to wait before answering. */
  delayMs: number;
  /** True when this failure got the address banned. */
  banned: boolean;
}

/** One banned address. */
export interface BanEntry {
  address: string;
  /** When the ban ends. */
  until: Date;
}

/** Counts, throttle and bans shared by every session of an archive. */
export interface SharedState {
  /** Counts a new connection from `address`, unless it is banned or a cap is reached. */
  admit(address: string): Promise<Admission>;
  /** Releases a connection `admit` counted. */
  release(address: string): Promise<void>;
  /** Takes an anonymous slot; false when all are in use. */
  takeAnonymous(): Promise<boolean>;
  /** Gives an anonymous slot back. */
  releaseAnonymous(): Promise<void>;
  /** Records a failed login and says how to answer it. */
  loginFailed(address: string): Promise<FailureVerdict>;
  /** A successful login clears the address's failures (not a running ban). */
  loginSucceeded(address: string): Promise<void>;
  /** Bans an address for `seconds` (the admin's hand). */
  ban(address: string, seconds: number): Promise<void>;
  /** Lifts a ban; false when there was none. */
  unban(address: string): Promise<boolean>;
  /** The bans in force. */
  bans(): Promise<BanEntry[]>;
  /** Current counts. */
  counts(): Promise<{ total: number; anonymous: number }>;
  /** Releases what the state holds (connections to a shared store). */
  close(): Promise<void>;
  /** Resolves once a shared store has answered, or after a short bound if it does not (absent: nothing to wait for). */
  ready?(): Promise<void>;
}

/**
 * Thrown by a shared state that cannot decide now: its store (Redis) is
 * unreachable and it was told to fail closed. The protocols refuse the
 * connection or login with a 421 carrying the message.
 */
export class StateUnavailableError extends Error {
  constructor(message = 'the shared state (Redis) is unreachable') {
    super(message);
    this.name = 'StateUnavailableError';
  }
}
