/**
 * Brute-force throttling per source address: each failed login from an
 * address is answered after a growing delay, and after `threshold`
 * failures (across connections) the address is banned for `banSeconds`.
 * The table is bounded: the least recently touched address is forgotten
 * first, so a flood of addresses cannot exhaust memory.
 */

import type { BanEntry, FailureVerdict } from './types.js';

export type { FailureVerdict };

interface Entry {
  failures: number;
  last: number;
  bannedUntil: number;
}

/** Options of a LoginThrottle. */
export interface LoginThrottleOptions {
  /** Delay after the first failure; doubled after each further one, capped at 16x. */
  baseDelayMs: number;
  threshold: number;
  banSeconds: number;
  /** Most addresses remembered. */
  capacity?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Per-address login failure accounting. */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(private readonly opts: LoginThrottleOptions) {
    this.capacity = opts.capacity ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Number of addresses remembered. */
  get size(): number {
    return this.entries.size;
  }

  /** Seconds left on the address's ban, or 0. */
  banRemaining(ip: string): number {
    const e = this.entries.get(ip);
    if (!e) return 0;
    const left = e.bannedUntil - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Records a failure and says how to answer it. */
  fail(ip: string): FailureVerdict {
    const now = this.now();
    let e = this.entries.get(ip);
    // Failures are forgotten after a quiet period as long as a ban.
    if (e && now - e.last > this.opts.banSeconds * 1000) e = undefined;
    e ??= { failures: 0, last: now, bannedUntil: 0 };
    e.failures++;
    e.last = now;
    this.touch(ip, e);
    if (e.failures >= this.opts.threshold) {
      e.bannedUntil = now + this.opts.banSeconds * 1000;
      e.failures = 0;
      return { delayMs: 0, banned: true };
    }
    const delayMs = this.opts.baseDelayMs * 2 ** Math.min(e.failures - 1, 4);
    return { delayMs, banned: false };
  }

  /** Bans an address for `seconds` from now. */
  ban(ip: string, seconds: number): void {
    const now = this.now();
    this.touch(ip, { failures: 0, last: now, bannedUntil: now + seconds * 1000 });
  }

  /** Lifts a ban; false when there was none. */
  unban(ip: string): boolean {
    const banned = this.banRemaining(ip) > 0;
    if (banned) this.entries.delete(ip);
    return banned;
  }

  /** The bans in force. */
  bans(): BanEntry[] {
    const now = this.now();
    const out: BanEntry[] = [];
    for (const [address, e] of this.entries) if (e.bannedUntil > now) out.push({ address, until: new Date(e.bannedUntil) });
    return out;
  }

  /** A successful login clears the address's failures (not a running ban). */
  succeed(ip: string): void {
    const e = this.entries.get(ip);
    if (e && e.bannedUntil <= this.now()) this.entries.delete(ip);
  }

  private touch(ip: string, e: Entry): void {
    this.entries.delete(ip);
    this.entries.set(ip, e);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
