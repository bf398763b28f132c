/**
 * What the live status page shows, as one JSON snapshot: the sessions, the
 * last 100 transfers, the bans, and the throughput of the last five
 * minutes (in and out, sampled every two seconds from the bytes of
 * finished transfers plus those of running ones).
 */
import type { ServerEvents, TransferEvent } from '../events/events.js';
import type { SessionInfo, SessionSource } from '../core/sessions.js';
import type { SharedState } from '../state/types.js';

/** A finished transfer, as the page lists it. */
export interface RecentTransfer {
  /** Epoch milliseconds of its end. */
  at: number;
  user: string;
  address: string;
  protocol: string;
  direction: 'upload' | 'download';
  path: string;
  bytes: number;
  seconds: number;
  ok: boolean;
}

/** One throughput sample: bytes per second over the interval ending at `at`. */
export interface ThroughputSample {
  at: number;
  in: number;
  out: number;
}

/** The page's data (`GET /api/status`, and each `data:` line of `GET /api/stream`). */
export interface StatusSnapshot {
  now: number;
  sessions: SessionInfo[];
  /** Newest first. */
  transfers: RecentTransfer[];
  bans: { address: string; until: number }[];
  /** Oldest first. */
  throughput: ThroughputSample[];
}

/** How many finished transfers are kept. */
const RECENT = 100;
/** Sampling period of the throughput chart, and how many samples are kept (five minutes). */
export const SAMPLE_MS = 2000;
const SAMPLES = 150;

/** Keeps the recent transfers and the throughput samples; builds snapshots. */
export class StatusFeed {
  private readonly recent: RecentTransfer[] = [];
  private readonly samples: ThroughputSample[] = [];
  /** Bytes of finished transfers, per direction, since start. */
  private finished = { in: 0, out: 0 };
  /** Bytes of running transfers at the last sample, by session. */
  private running = new Map<number, { in: number; out: number }>();
  private last = Date.now();
  private lastFinished = { in: 0, out: 0 };
  private readonly timer: NodeJS.Timeout;
  private readonly onTransfer = (e: TransferEvent): void => {
    if (e.direction === 'upload') this.finished.in += e.bytes;
    else this.finished.out += e.bytes;
    this.recent.unshift({
      at: Date.now(),
      user: e.user,
      address: e.remote,
      protocol: e.protocol,
      direction: e.direction,
      path: e.path,
      bytes: e.bytes,
      seconds: Math.round(e.seconds * 1000) / 1000,
      ok: e.ok,
    });
    if (this.recent.length > RECENT) this.recent.length = RECENT;
  };

  constructor(
    private readonly events: ServerEvents,
    private readonly source: SessionSource,
    private readonly state: SharedState,
  ) {
    events.on('transfer', this.onTransfer);
    this.timer = setInterval(() => void this.sample().catch(() => undefined), SAMPLE_MS);
    this.timer.unref();
  }

  /** Stops listening and sampling. */
  close(): void {
    clearInterval(this.timer);
    this.events.off('transfer', this.onTransfer);
  }

  /** The page's data now. */
  async snapshot(): Promise<StatusSnapshot> {
    const bans = await this.state.bans();
    return {
      now: Date.now(),
      sessions: await this.source.sessions(),
      transfers: [...this.recent],
      bans: bans.map((b) => ({ address: b.address, until: b.until.getTime() })),
      throughput: [...this.samples],
    };
  }

  /**
   * One sample: bytes finished since the last one, plus the growth of the
   * running transfers (a transfer that ended meanwhile counts what it moved
   * after the last sample: its total, less what was already counted).
   */
  async sample(now = Date.now()): Promise<void> {
    const running = new Map<number, { in: number; out: number }>();
    for (const s of await this.source.sessions()) {
      if (!s.transfer) continue;
      running.set(s.id, s.transfer.direction === 'upload' ? { in: s.transfer.bytes, out: 0 } : { in: 0, out: s.transfer.bytes });
    }
    let dIn = this.finished.in - this.lastFinished.in;
    let dOut = this.finished.out - this.lastFinished.out;
    for (const [id, before] of this.running) {
      const after = running.get(id);
      // Ended: its total is in `finished`; what was counted before must not count twice.
      dIn -= after ? 0 : before.in;
      dOut -= after ? 0 : before.out;
    }
    for (const [id, after] of running) {
      const before = this.running.get(id) ?? { in: 0, out: 0 };
      dIn += after.in - before.in;
      dOut += after.out - before.out;
    }
    const secs = Math.max(0.001, (now - this.last) / 1000);
    this.samples.push({ at: now, in: Math.max(0, Math.round(dIn / secs)), out: Math.max(0, Math.round(dOut / secs)) });
    if (this.samples.length > SAMPLES) this.samples.shift();
    this.running = running;
    this.lastFinished = { ...this.finished };
    this.last = now;
  }
}
