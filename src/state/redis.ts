/**
 * RedisState: the SharedState of a fleet. Every process of every node
 * counts its connections, and reads the others', in one Redis (`[state]
 * redis`), so the caps, the login throttle and the bans are one for the
 * whole archive.
 *
 * Leases (counts that cannot leak). Each process has a lease id and a
 * hash `lease:<id>` of the connections it holds (total, anonymous, per
 * address), listed in the sorted set `leases` with an expiry time as its
 * score. A count is the sum over the live leases (score in the future),
 * computed inside the Lua script that decides, so a decision and the
 * increment that follows it are one atomic step. While the process lives
 * it renews its lease every third of `lease_time` (and on every
 * admission); a process that dies (SIGKILL, a lost node) stops being
 * renewed, and its connections stop counting when the lease expires: at
 * most `lease_time` later, with no one having to clean up after it (the
 * next script drops the expired entry; the hash expires by itself).
 *
 * The process keeps its own table (LocalLeases) as the truth. The lease in
 * Redis mirrors it through increments, and is rewritten from it whole
 * (SYNC) whenever the two may differ: after an outage, after a call that
 * timed out (it may or may not have run), when Redis reports the lease
 * gone (expired during a long pause, or Redis restarted empty). New calls
 * wait while a rewrite is under way, and the rewrite waits for the calls
 * in flight, so none is lost between the two.
 *
 * Failure. Every call has a short timeout (2 s). A failed or late call
 * marks Redis unreachable (logged once) until a probe answers again; the
 * client reconnects by itself. Meanwhile, with `on_failure = "open"`,
 * decisions are local: this process's own table against the same caps,
 * and a local throttle whose bans are written to Redis on its return;
 * with `"closed"`, admissions and logins throw StateUnavailableError (the
 * protocols answer 421) and releases are only counted locally. Nothing
 * here throws anything else, and nothing waits on Redis for longer than
 * the timeout.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createClient } from 'redis';
import type { Logger } from '../events/log.js';
import { LocalLeases } from './leases.js';
import { LoginThrottle } from './loginThrottle.js';
import * as lua from './redis-scripts.js';
import { StateUnavailableError, type Admission, type BanEntry, type FailureVerdict, type SharedState, type StateLimits } from './types.js';

/** Options of a RedisState. */
export interface RedisStateOptions {
  /** `redis[s]://[user:password@]host[:port][/db]`. */
  url: string;
  limits: StateLimits;
  /** Redis unreachable: serve with local limits (`open`, the default) or refuse (`closed`). */
  onFailure?: 'open' | 'closed';
  /** Prefix of every key (default `wharf:`); fleets sharing one Redis use different ones. */
  keyPrefix?: string;
  /** How long a lease lives without renewal (ms, default 15 s). */
  leaseMs?: number;
  /** Longest wait for one Redis call (ms, default 2 s). */
  timeoutMs?: number;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Most bans remembered for writing to Redis on its return (the local throttle still enforces them all). */
const MAX_PENDING_BANS = 10_000;

/** Shared state in Redis, with leases and a local fallback. */
export class RedisState implements SharedState {
  private readonly client: ReturnType<typeof createClient>;
  private readonly sender: lua.CommandSender;
  private readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly prefix: string;
  private readonly keys: { leases: string; bans: string; own: string };
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly closedOnFailure: boolean;
  private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  private readonly leases = new LocalLeases();
  /** Local throttle and bans, used while Redis is unreachable. */
  private readonly throttle: LoginThrottle;
  /** Bans made locally while Redis was unreachable: address -> end (ms), written to Redis on its return. */
  private readonly pendingBans = new Map<string, number>();
  private up = false;
  private downLogged = false;
  private closed = false;
  private started = false;
  /** Set while the lease is rewritten: new calls wait for it. */
  private recovering: Promise<void> | null = null;
  private inflight = 0;
  /** The local table's version the last rewrite of the lease carried. */
  private syncedVersion = -1;
  private idle: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly firstUp: Promise<void>;
  private markFirstUp = () => undefined as void;

  constructor(private readonly opts: RedisStateOptions) {
    this.prefix = opts.keyPrefix ?? 'wharf:';
    this.keys = { leases: `${this.prefix}leases`, bans: `${this.prefix}bans`, own: `${this.prefix}lease:${this.id}` };
    this.leaseMs = opts.leaseMs ?? 15_000;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.closedOnFailure = opts.onFailure === 'closed';
    this.log = opts.log ?? silent;
    const l = opts.limits;
    this.throttle = new LoginThrottle({ baseDelayMs: l.loginFailureDelayMs, threshold: l.banThreshold, banSeconds: l.banSeconds });
    this.firstUp = new Promise((resolve) => (this.markFirstUp = resolve));
    this.client = createClient({
      url: opts.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: this.timeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 500) },
    });
    this.sender = this.client;
  }

  /** Connects (on first use, so a state never used holds no socket): renewals and probes from then on. */
  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.client.on('error', (err: unknown) => this.down(err));
    this.client.on('ready', () => void this.recover());
    this.client.connect().catch((err: unknown) => this.down(err));
    this.every(this.leaseMs / 3, () => this.renew());
    this.every(500, () => {
      if (!this.up && this.client.isReady) void this.recover();
    });
  }

  /** True while decisions are shared through Redis. */
  get shared(): boolean {
    return this.up;
  }

  /** Resolves once Redis has answered, or after the call timeout if it does not. */
  async ready(): Promise<void> {
    this.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstUp, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)))]);
    clearTimeout(timer);
  }

  async admit(address: string): Promise<Admission> {
    const l = this.opts.limits;
    return this.decide(
      async () => {
        const keys = [this.keys.leases, this.keys.bans, this.keys.own];
        const args = [this.prefix, this.id, this.leaseMs, address, l.maxConnections, l.maxConnectionsPerIp];
        const [verdict, seconds, synced] = lua.list(await this.run(lua.ADMIT, keys, args));
        if (verdict === 'ok') this.counted(() => this.leases.add(address), synced);
        return lua.admission(String(verdict), Number(seconds), l);
      },
      () => this.admitLocally(address),
    );
  }

  async release(address: string): Promise<void> {
    this.leases.remove(address);
    await this.forget(this.leases.version, 't', `i:${address}`);
  }

  async takeAnonymous(): Promise<boolean> {
    const max = this.opts.limits.maxAnonymous;
    return this.decide(
      async () => {
        const [taken, synced] = lua.list(await this.run(lua.TAKE_ANONYMOUS, [this.keys.leases, this.keys.own], [this.prefix, this.id, this.leaseMs, max]));
        if (Number(taken) === 1) this.counted(() => this.leases.addAnonymous(), synced);
        return Number(taken) === 1;
      },
      () => {
        if (this.leases.counts.anonymous >= max) return false;
        this.leases.addAnonymous();
        return true;
      },
    );
  }

  async releaseAnonymous(): Promise<void> {
    this.leases.removeAnonymous();
    await this.forget(this.leases.version, 'a', '');
  }

  async loginFailed(address: string): Promise<FailureVerdict> {
    const l = this.opts.limits;
    return this.decide(
      async () => {
        const [failures, banned] = lua.list(await this.run(lua.LOGIN_FAILED, [this.failKey(address), this.keys.bans], [address, l.banThreshold, l.banSeconds * 1000]));
        if (Number(banned) === 1) return { delayMs: 0, banned: true };
        return { delayMs: l.loginFailureDelayMs * 2 ** Math.min(Number(failures) - 1, 4), banned: false };
      },
      () => {
        const verdict = this.throttle.fail(address);
        if (verdict.banned && this.pendingBans.size < MAX_PENDING_BANS) this.pendingBans.set(address, Date.now() + l.banSeconds * 1000);
        return verdict;
      },
    );
  }

  async loginSucceeded(address: string): Promise<void> {
    return this.decide(
      async () => void (await this.send(['DEL', this.failKey(address)])),
      () => this.throttle.succeed(address),
    );
  }

  async ban(address: string, seconds: number): Promise<void> {
    this.throttle.ban(address, seconds);
    await this.admin(
      async () => void (await this.run(lua.BAN, [this.keys.bans], [address, seconds * 1000])),
      () => void (this.pendingBans.size < MAX_PENDING_BANS && this.pendingBans.set(address, Date.now() + seconds * 1000)),
    );
  }

  async unban(address: string): Promise<boolean> {
    const local = this.throttle.unban(address);
    this.pendingBans.delete(address);
    return this.admin(
      async () => Number(await this.run(lua.UNBAN, [this.keys.bans, this.failKey(address)], [address])) === 1 || local,
      () => local,
    );
  }

  async bans(): Promise<BanEntry[]> {
    return this.admin(
      async () => {
        const flat = lua.list(await this.run(lua.BANS, [this.keys.bans], []));
        const out: BanEntry[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) out.push({ address: String(flat[i]), until: new Date(Number(flat[i + 1])) });
        return out;
      },
      () => this.throttle.bans(),
    );
  }

  async counts(): Promise<{ total: number; anonymous: number }> {
    return this.admin(
      async () => {
        const [total, anonymous] = lua.list(await this.run(lua.COUNTS, [this.keys.leases], [this.prefix]));
        return { total: Number(total), anonymous: Number(anonymous) };
      },
      () => this.leases.counts,
    );
  }

  /** Gives the lease back (this process's connections stop counting at once) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.up) {
      const gone = [this.send(['ZREM', this.keys.leases, this.id]), this.send(['DEL', this.keys.own])];
      await Promise.all(gone.map((p) => p.catch(() => undefined)));
    }
    this.up = false;
    if (this.started) this.client.destroy();
  }

  // ---- the mechanics ----

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private failKey(address: string): string {
    return `${this.prefix}fail:${address}`;
  }

  private send(args: string[]): Promise<unknown> {
    return lua.sendBounded(this.sender, args, this.timeoutMs);
  }

  private run(script: lua.LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    return script.run(this.sender, keys, args, this.timeoutMs);
  }

  /** Records what a script counted; `synced` 0 means the lease had been lost: rewrite it. */
  private counted(record: () => void, synced: unknown): void {
    record();
    if (Number(synced) !== 1 && !this.recovering) void this.recover();
  }

  /**
   * A decision: through Redis when it is reachable; else local (open) or
   * StateUnavailableError (closed). A call that fails marks Redis down.
   */
  private async decide<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    this.start();
    if (this.recovering) await this.recovering;
    if (!this.up) {
      if (this.closedOnFailure) throw new StateUnavailableError();
      return local();
    }
    return this.tracked(remote, () => {
      if (this.closedOnFailure) throw new StateUnavailableError();
      return local();
    });
  }

  /** An operator's call (bans, counts): local while Redis is down, in either mode. */
  private async admin<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    this.start();
    if (this.recovering) await this.recovering;
    return this.up ? this.tracked(remote, local) : local();
  }

  private async tracked<T>(remote: () => Promise<T>, onError: () => T): Promise<T> {
    this.inflight++;
    try {
      return await remote();
    } catch (err) {
      this.down(err);
      return onError();
    } finally {
      if (--this.inflight === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /**
   * Takes a released connection off the lease in Redis (the local table
   * already has, at `version`). Not when a rewrite of the lease carried
   * it already, or while Redis is down (the next rewrite will).
   */
  private async forget(version: number, counter: 't' | 'a', field: string): Promise<void> {
    if (this.recovering) await this.recovering;
    if (!this.up || this.syncedVersion >= version) return;
    await this.tracked(
      async () => {
        if (Number(await this.run(lua.RELEASE, [this.keys.own], [counter, field])) !== 1 && !this.recovering) void this.recover();
      },
      () => undefined,
    );
  }

  /** Decides locally (Redis unreachable, `open`): this process's own connections against the same caps. */
  private admitLocally(address: string): Admission {
    const l = this.opts.limits;
    const seconds = this.throttle.banRemaining(address);
    if (seconds > 0) return { ok: false, reason: 'banned', seconds };
    if (this.leases.counts.total >= l.maxConnections) return { ok: false, reason: 'total', limit: l.maxConnections };
    if (this.leases.from(address) >= l.maxConnectionsPerIp) return { ok: false, reason: 'per-ip', limit: l.maxConnectionsPerIp };
    this.leases.add(address);
    return { ok: true };
  }

  /** Redis failed or stopped answering: decide locally (or refuse) until a probe answers. */
  private down(err: unknown): void {
    if (this.closed) return;
    const was = this.up;
    this.up = false;
    if (was || !this.downLogged) {
      this.downLogged = true;
      const mode = this.closedOnFailure ? 'refusing new connections and logins' : 'serving with local limits';
      this.log.warn({ event: 'state-unavailable', err: err instanceof Error ? err.message : String(err) }, `shared state (Redis) unreachable: ${mode} until it is back`);
    }
  }

  /** Rewrites the lease from the local table (and the bans made meanwhile), then shares decisions again. */
  private recover(): Promise<void> {
    if (this.recovering || this.closed) return this.recovering ?? Promise.resolve();
    const run = (async () => {
      await this.settled();
      const wasUp = this.up;
      try {
        await this.send(['PING']);
        for (const [address, until] of this.pendingBans) {
          const ms = until - Date.now();
          if (ms > 0) await this.run(lua.BAN, [this.keys.bans], [address, ms]);
        }
        this.pendingBans.clear();
        const version = this.leases.version;
        await this.run(lua.SYNC, [this.keys.leases, this.keys.own], [this.id, this.leaseMs, ...this.leases.fields()]);
        this.syncedVersion = version;
      } catch (err) {
        this.down(err);
        return;
      }
      this.up = true;
      this.markFirstUp();
      if (this.downLogged && !wasUp) this.log.info({ event: 'state-recovered' }, 'shared state (Redis) reachable again: limits and bans are shared');
      this.downLogged = false;
    })();
    this.recovering = run.finally(() => (this.recovering = null));
    return this.recovering;
  }

  /** Resolves when no call is in flight (each is bounded by the timeout). */
  private settled(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Renews the lease; a lost one is rewritten. */
  private renew(): void {
    if (!this.up || this.recovering) return;
    void this.tracked(
      async () => {
        if (Number(await this.run(lua.RENEW, [this.keys.leases, this.keys.own], [this.id, this.leaseMs])) !== 1) void this.recover();
      },
      () => undefined,
    );
  }
}
