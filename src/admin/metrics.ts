/**
 * `GET /metrics`: Prometheus text through prom-client, on a registry of
 * this server's own (two servers in one process do not mix). Counters
 * follow the events; gauges are read when scraped. No per-user or
 * per-address labels.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerEvents } from '../events/events.js';
import type { SessionSource } from '../core/sessions.js';
import type { SharedState } from '../state/types.js';

/** What the gauges read at scrape time. */
export interface MetricSources {
  sessions: SessionSource;
  state: SharedState;
  /** FTP replies sent, by class: index 1 to 5 (1xx..5xx). */
  replies(): readonly number[];
  /** Passive data ports listening now. */
  passivePorts(): number;
  /** The hook runner's counters, when hooks are configured. */
  hooks(): { ok: number; failed: number; dropped: number } | null;
  /** Reloads the config (`POST /api/reload`); rejects with a ConfigError when the new one is invalid. */
  reload(): Promise<{ reloaded: string[]; restartNeeded: string[] }>;
}

/** The server's metrics. */
export class Metrics {
  readonly registry = new Registry();

  constructor(events: ServerEvents, src: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'wharf_' });
    new Gauge({
      name: 'wharf_sessions',
      help: 'Logged-in sessions, by protocol (ftps once a control connection uses TLS) and kind.',
      labelNames: ['protocol', 'kind'],
      registers,
      async collect() {
        const sessions = await src.sessions.sessions();
        this.reset();
        for (const s of sessions) if (s.user !== null) this.inc({ protocol: s.protocol, kind: s.anonymous ? 'anonymous' : 'user' });
      },
    });
    new Gauge({
      name: 'wharf_connections',
      help: 'Open connections, logged in or not, by protocol.',
      labelNames: ['protocol'],
      registers,
      async collect() {
        const sessions = await src.sessions.sessions();
        this.reset();
        for (const s of sessions) this.inc({ protocol: s.protocol });
      },
    });
    new Gauge({
      name: 'wharf_bans_active',
      help: 'Bans in force.',
      registers,
      // Every worker of a node reads the same bans: the node's figure is one of them, not their sum.
      aggregator: 'max',
      async collect() {
        this.set((await src.state.bans()).length);
      },
    });
    new Gauge({
      name: 'wharf_passive_ports_in_use',
      help: 'Passive data ports listening.',
      registers,
      collect() {
        this.set(src.passivePorts());
      },
    });
    new Counter({
      name: 'wharf_ftp_replies_total',
      help: 'FTP replies sent, by class (1xx to 5xx).',
      labelNames: ['class'],
      registers,
      collect() {
        this.reset();
        src.replies().forEach((n, i) => {
          if (i >= 1 && i <= 5) this.inc({ class: `${i}xx` }, n);
        });
      },
    });
    new Counter({
      name: 'wharf_hooks_total',
      help: 'Hook runs, by result (ok, failed, dropped).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        const h = src.hooks();
        if (!h) return;
        for (const result of ['ok', 'failed', 'dropped'] as const) this.inc({ result }, h[result]);
      },
    });
    this.follow(events);
  }

  /** The counters that follow the events. */
  private follow(events: ServerEvents): void {
    const registers = [this.registry];
    const logins = new Counter({ name: 'wharf_logins_total', help: 'Login attempts, by result.', labelNames: ['result'], registers });
    const bytes = new Counter({ name: 'wharf_transfer_bytes_total', help: 'Bytes of file transfers, by direction.', labelNames: ['direction'], registers });
    const transfers = new Counter({
      name: 'wharf_transfers_total',
      help: 'File transfers (not listings), by direction and result.',
      labelNames: ['direction', 'result'],
      registers,
    });
    const durations = new Histogram({
      name: 'wharf_transfer_duration_seconds',
      help: 'Durations of file transfers, by direction.',
      labelNames: ['direction'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
      registers,
    });
    const bans = new Counter({ name: 'wharf_bans_total', help: 'Addresses banned (failed logins or the admin).', registers });
    for (const result of ['ok', 'failed']) logins.inc({ result }, 0);
    events.on('login', () => logins.inc({ result: 'ok' }));
    events.on('login-failed', () => logins.inc({ result: 'failed' }));
    events.on('ban', () => bans.inc());
    events.on('transfer', (e) => {
      bytes.inc({ direction: e.direction }, e.bytes);
      transfers.inc({ direction: e.direction, result: e.ok ? 'ok' : 'failed' });
      durations.observe({ direction: e.direction }, e.seconds);
    });
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Its content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
