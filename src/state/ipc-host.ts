/**
 * StateHost: the primary's side of IpcState. It answers the workers'
 * requests from one SharedState (a MemoryState: one node's counts, throttle
 * and bans) and remembers what each worker holds (connections per address,
 * anonymous slots), so that when a worker dies, killed or crashed, its
 * share is given back at once and nothing stays counted.
 */
import { isStateRequest, type StateReply, type StateRequest } from './ipc.js';
import type { SharedState } from './types.js';

/** What one worker holds. */
interface Holding {
  perIp: Map<string, number>;
  anonymous: number;
}

/** Answers workers' state requests and frees a dead worker's share. */
export class StateHost {
  private readonly held = new Map<number, Holding>();

  constructor(readonly state: SharedState) {}

  /**
   * Handles `message` when it is a state request from worker `owner`;
   * `reply` sends the answer back. False for any other message.
   */
  handle(owner: number, message: unknown, reply: (answer: StateReply) => void): boolean {
    if (!isStateRequest(message)) return false;
    this.run(owner, message).then(
      (value) => reply({ wharf: 'state-reply', id: message.id, value }),
      (err: unknown) => reply({ wharf: 'state-reply', id: message.id, error: err instanceof Error ? err.message : String(err) }),
    );
    return true;
  }

  /** Gives back everything worker `owner` holds (it has ended); resolves with what was freed. */
  async releaseAll(owner: number): Promise<{ connections: number; anonymous: number }> {
    const h = this.held.get(owner);
    this.held.delete(owner);
    if (!h) return { connections: 0, anonymous: 0 };
    let connections = 0;
    for (const [ip, n] of h.perIp) {
      for (let i = 0; i < n; i++) await this.state.release(ip);
      connections += n;
    }
    for (let i = 0; i < h.anonymous; i++) await this.state.releaseAnonymous();
    return { connections, anonymous: h.anonymous };
  }

  private holding(owner: number): Holding {
    let h = this.held.get(owner);
    if (!h) this.held.set(owner, (h = { perIp: new Map(), anonymous: 0 }));
    return h;
  }

  private async run(owner: number, m: StateRequest): Promise<unknown> {
    const s = this.state;
    const [a = '', b = 0] = m.args;
    const address = String(a);
    switch (m.op) {
      case 'admit':
      case 'release':
      case 'takeAnonymous':
      case 'releaseAnonymous':
        return this.counted(owner, m.op, address);
      case 'loginFailed':
        return s.loginFailed(address);
      case 'loginSucceeded':
        return s.loginSucceeded(address);
      case 'ban':
        return s.ban(address, Number(b));
      case 'unban':
        return s.unban(address);
      case 'bans':
        return (await s.bans()).map((x) => ({ address: x.address, until: x.until.getTime() }));
      case 'counts':
        return s.counts();
    }
  }

  /** The operations that take or give back a slot, kept in `owner`'s holding. */
  private async counted(owner: number, op: 'admit' | 'release' | 'takeAnonymous' | 'releaseAnonymous', address: string): Promise<unknown> {
    const s = this.state;
    const h = this.holding(owner);
    if (op === 'admit') {
      const verdict = await s.admit(address);
      if (verdict.ok) this.count(owner, address, 1);
      return verdict;
    }
    // A worker gives back only what it holds (a late duplicate cannot free another worker's slot).
    if (op === 'release') return this.count(owner, address, -1) ? s.release(address) : undefined;
    if (op === 'takeAnonymous') {
      const ok = await s.takeAnonymous();
      if (ok) h.anonymous++;
      return ok;
    }
    if (h.anonymous <= 0) return undefined;
    h.anonymous--;
    return s.releaseAnonymous();
  }

  /** Adds `delta` to what `owner` holds from `ip`; false when a release finds nothing held. */
  private count(owner: number, ip: string, delta: 1 | -1): boolean {
    const h = this.holding(owner);
    const n = (h.perIp.get(ip) ?? 0) + delta;
    if (n < 0) return false;
    if (n === 0) h.perIp.delete(ip);
    else h.perIp.set(ip, n);
    return true;
  }
}
