/**
 * Connections that go away early, as load balancers' TCP checks and broken
 * clients make them (connect and close, a TLS handshake cut short), and a
 * SharedState that counts what the server admits and releases, and can
 * hold admissions back to close a connection while it waits.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { MemoryState } from '../../src/state/memory.js';
import type { Admission, BanEntry, FailureVerdict, SharedState, StateLimits } from '../../src/state/types.js';
import { within } from './tls.js';

/** The first bytes of a TLS record carrying a ClientHello, cut off. */
export const PARTIAL_HELLO = Buffer.from([22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3]);

/** A real ClientHello, as Node's TLS client sends it first (offering `options.session`, if any). */
export function clientHello(options: Pick<tls.ConnectionOptions, 'session' | 'maxVersion'> = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, callback) {
        callback();
        resolve(chunk);
        setImmediate(() => client.destroy());
      },
    });
    const client = tls.connect({ socket: wire, rejectUnauthorized: false, ...options });
    client.on('error', () => undefined);
  });
}

/** How a probe leaves: a close (RST or FIN with nothing unread) or a half-close (FIN, then waits). */
export type Leave = 'destroy' | 'end';

/** Connects; returns the socket once connected. */
export async function connectTo(port: number, localAddress?: string): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  s.on('error', () => undefined);
  await within(once(s, 'connect'), 10_000, 'connect');
  return s;
}

/** Leaves the way `how` says; a half-closed socket is destroyed once the server closes its side. */
export function leave(s: net.Socket, how: Leave): void {
  if (how === 'destroy') {
    s.destroy();
    return;
  }
  s.on('end', () => s.destroy());
  s.resume();
  s.end();
}

/** Reads until `text` has arrived (plain control replies). */
export async function readUntil(s: net.Socket, text: RegExp): Promise<string> {
  let got = '';
  await within(
    new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        got += d.toString('latin1');
        if (!text.test(got)) return;
        s.off('data', onData);
        resolve();
      };
      s.on('data', onData);
    }),
    10_000,
    `waiting for ${String(text)}`,
  );
  return got;
}

/** Sends a ClientHello and waits for the server's first handshake flight: the handshake is then half done. */
export async function halfHandshake(s: net.Socket): Promise<void> {
  s.write(await clientHello());
  await within(once(s, 'data'), 10_000, "the server's handshake flight");
}

const DEFAULT_LIMITS: StateLimits = {
  maxConnections: 1000,
  maxConnectionsPerIp: 1000,
  maxAnonymous: 1000,
  loginFailureDelayMs: 0,
  banThreshold: 1000,
  banSeconds: 60,
};

/**
 * A MemoryState that counts admissions and releases, emits `admit` (when
 * asked) and `change` (after each count) on `events`, and holds admissions
 * while `hold()` is in force. A release without a matching admission shows as a negative
 * total in `counts()`.
 */
export class CountingState implements SharedState {
  readonly events = new EventEmitter();
  admitted = 0;
  released = 0;
  anonymousTaken = 0;
  anonymousReleased = 0;
  private readonly inner: MemoryState;
  private gate: { promise: Promise<void>; open: () => void } | null = null;

  constructor(limits: Partial<StateLimits> = {}) {
    this.inner = new MemoryState({ ...DEFAULT_LIMITS, ...limits });
  }

  /** Admissions wait from now until `release()`. */
  hold(): void {
    let open = () => undefined as void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  /** Lets held admissions (and later ones) through. */
  letThrough(): void {
    this.gate?.open();
    this.gate = null;
  }

  /** Resolves once `released` reaches `n` (bounded). */
  releasedTo(n: number, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.released >= n, timeoutMs, `${n} releases`);
  }

  /** Resolves once every anonymous slot taken is given back (bounded). */
  anonymousBalanced(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.anonymousReleased === this.anonymousTaken, timeoutMs, 'the anonymous slots given back');
  }

  /** Resolves once `predicate` holds, checked after each change (bounded). */
  private async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    let check = () => undefined as void;
    const reached = new Promise<void>((resolve) => {
      check = () => {
        if (predicate()) resolve();
      };
      this.events.on('change', check);
      check();
    });
    try {
      await within(reached, timeoutMs, `${what} (admitted ${this.admitted}, released ${this.released}, anonymous ${this.anonymousTaken}/${this.anonymousReleased})`);
    } finally {
      this.events.off('change', check);
    }
  }

  async admit(address: string): Promise<Admission> {
    this.events.emit('admit', address);
    if (this.gate) await this.gate.promise;
    const verdict = await this.inner.admit(address);
    if (verdict.ok) this.admitted++;
    this.events.emit('change');
    return verdict;
  }

  /** Counted when called (the server does not wait for it). */
  release(address: string): Promise<void> {
    this.released++;
    this.events.emit('change');
    return this.inner.release(address);
  }

  async takeAnonymous(): Promise<boolean> {
    const ok = await this.inner.takeAnonymous();
    if (ok) this.anonymousTaken++;
    this.events.emit('change');
    return ok;
  }

  /** Counted when called. */
  releaseAnonymous(): Promise<void> {
    this.anonymousReleased++;
    this.events.emit('change');
    return this.inner.releaseAnonymous();
  }

  loginFailed(address: string): Promise<FailureVerdict> {
    return this.inner.loginFailed(address);
  }

  loginSucceeded(address: string): Promise<void> {
    return this.inner.loginSucceeded(address);
  }

  ban(address: string, seconds: number): Promise<void> {
    return this.inner.ban(address, seconds);
  }

  unban(address: string): Promise<boolean> {
    return this.inner.unban(address);
  }

  bans(): Promise<BanEntry[]> {
    return this.inner.bans();
  }

  counts(): Promise<{ total: number; anonymous: number }> {
    return this.inner.counts();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
