/**
 * IpcState: the SharedState of a worker process (`workers = N` without
 * `[state]`). The counts, the throttle and the bans live in one MemoryState
 * in the cluster's primary (StateHost); each call here is one message to it
 * and one answer back, so every worker of a node enforces the same caps and
 * bans.
 *
 * No call waits longer than `timeoutMs` (default 2 s). A decision the
 * primary does not answer in time (admit, an anonymous slot, a login's
 * outcome) throws StateUnavailableError, which the protocols turn into a
 * 421; a release that is not answered is dropped (the primary frees
 * everything a worker held when the worker ends).
 */
import { StateUnavailableError, type Admission, type BanEntry, type FailureVerdict, type SharedState } from './types.js';

/** The way to the primary: send a message, and hear its messages. */
export interface StateChannel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  offMessage(listener: (message: unknown) => void): void;
}

/** The operations a worker asks the primary for (SharedState without close/ready). */
export const STATE_OPS = ['admit', 'release', 'takeAnonymous', 'releaseAnonymous', 'loginFailed', 'loginSucceeded', 'ban', 'unban', 'bans', 'counts'] as const;

/** One operation. */
export type StateOp = (typeof STATE_OPS)[number];

/** A worker's request: `{wharf: 'state', id, op, args}`. */
export interface StateRequest {
  wharf: 'state';
  id: number;
  op: StateOp;
  args: (string | number)[];
}

/** The primary's answer: `{wharf: 'state-reply', id, value}` or `{..., error}`. */
export interface StateReply {
  wharf: 'state-reply';
  id: number;
  value?: unknown;
  error?: string;
}

/** True for a worker's state request. */
export function isStateRequest(m: unknown): m is StateRequest {
  const r = m as Partial<StateRequest> | null;
  return typeof r === 'object' && r !== null && r.wharf === 'state' && typeof r.id === 'number' && STATE_OPS.includes(r.op as StateOp) && Array.isArray(r.args);
}

function isStateReply(m: unknown): m is StateReply {
  const r = m as Partial<StateReply> | null;
  return typeof r === 'object' && r !== null && r.wharf === 'state-reply' && typeof r.id === 'number';
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Shared state held by the cluster's primary, asked over IPC. */
export class IpcState implements SharedState {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private closed = false;
  private readonly onMessage = (m: unknown): void => {
    if (!isStateReply(m)) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(new StateUnavailableError(m.error));
    else p.resolve(m.value);
  };

  constructor(
    private readonly channel: StateChannel,
    opts: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    channel.onMessage(this.onMessage);
  }

  /** Calls `op` in the primary; rejects with StateUnavailableError after the timeout. */
  private call(op: StateOp, ...args: (string | number)[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new StateUnavailableError('the server is shutting down'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new StateUnavailableError('the primary process did not answer'));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.channel.send({ wharf: 'state', id, op, args } satisfies StateRequest);
      } catch {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new StateUnavailableError('the primary process is gone'));
      }
    });
  }

  /** A call whose failure does not matter to the caller (releases): the primary frees the rest when this worker ends. */
  private async quiet(op: StateOp, ...args: (string | number)[]): Promise<void> {
    await this.call(op, ...args).catch(() => undefined);
  }

  async admit(address: string): Promise<Admission> {
    return (await this.call('admit', address)) as Admission;
  }

  release(address: string): Promise<void> {
    return this.quiet('release', address);
  }

  async takeAnonymous(): Promise<boolean> {
    return (await this.call('takeAnonymous')) === true;
  }

  releaseAnonymous(): Promise<void> {
    return this.quiet('releaseAnonymous');
  }

  async loginFailed(address: string): Promise<FailureVerdict> {
    return (await this.call('loginFailed', address)) as FailureVerdict;
  }

  loginSucceeded(address: string): Promise<void> {
    return this.quiet('loginSucceeded', address);
  }

  async ban(address: string, seconds: number): Promise<void> {
    await this.call('ban', address, seconds);
  }

  async unban(address: string): Promise<boolean> {
    return (await this.call('unban', address)) === true;
  }

  async bans(): Promise<BanEntry[]> {
    const list = (await this.call('bans')) as { address: string; until: number }[];
    return list.map((b) => ({ address: b.address, until: new Date(b.until) }));
  }

  async counts(): Promise<{ total: number; anonymous: number }> {
    return (await this.call('counts')) as { total: number; anonymous: number };
  }

  /** Stops listening; calls still waiting fail at once. */
  close(): Promise<void> {
    this.closed = true;
    this.channel.offMessage(this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new StateUnavailableError('the server is shutting down'));
    }
    this.pending.clear();
    return Promise.resolve();
  }
}
