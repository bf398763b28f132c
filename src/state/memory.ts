/**
 * The in-memory SharedState: one process's counts, throttle and bans.
 * What `wharf serve` uses without `[state]`.
 */
import { ConnectionLimits } from './connections.js';
import { LoginThrottle } from './loginThrottle.js';
import type { Admission, BanEntry, FailureVerdict, SharedState, StateLimits } from './types.js';

/** Shared state held in this process. */
export class MemoryState implements SharedState {
  private readonly limits: ConnectionLimits;
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly opts: StateLimits,
    now: () => number = Date.now,
  ) {
    this.limits = new ConnectionLimits(opts.maxConnections, opts.maxConnectionsPerIp, opts.maxAnonymous);
    this.throttle = new LoginThrottle({ baseDelayMs: opts.loginFailureDelayMs, threshold: opts.banThreshold, banSeconds: opts.banSeconds, now });
  }

  admit(address: string): Promise<Admission> {
    const seconds = this.throttle.banRemaining(address);
    if (seconds > 0) return Promise.resolve({ ok: false, reason: 'banned', seconds });
    const verdict = this.limits.admit(address);
    if (verdict === 'ok') return Promise.resolve({ ok: true });
    const limit = verdict === 'total' ? this.opts.maxConnections : this.opts.maxConnectionsPerIp;
    return Promise.resolve({ ok: false, reason: verdict, limit });
  }

  release(address: string): Promise<void> {
    this.limits.release(address);
    return Promise.resolve();
  }

  takeAnonymous(): Promise<boolean> {
    return Promise.resolve(this.limits.takeAnonymous());
  }

  releaseAnonymous(): Promise<void> {
    this.limits.releaseAnonymous();
    return Promise.resolve();
  }

  loginFailed(address: string): Promise<FailureVerdict> {
    return Promise.resolve(this.throttle.fail(address));
  }

  loginSucceeded(address: string): Promise<void> {
    this.throttle.succeed(address);
    return Promise.resolve();
  }

  ban(address: string, seconds: number): Promise<void> {
    this.throttle.ban(address, seconds);
    return Promise.resolve();
  }

  unban(address: string): Promise<boolean> {
    return Promise.resolve(this.throttle.unban(address));
  }

  bans(): Promise<BanEntry[]> {
    return Promise.resolve(this.throttle.bans());
  }

  counts(): Promise<{ total: number; anonymous: number }> {
    return Promise.resolve(this.limits.counts);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
