/**
 * Runs hooks without ever holding up a session: events are queued (a
 * bounded queue: past it, a run is dropped and counted), a bounded number
 * run at once, each within its time limit. A command is spawned with an
 * argv (no shell) and the event in `WHARF_*` variables; a URL gets the
 * event as a JSON POST, retried with back-off on network errors, 408, 429
 * and 5xx. Failures are logged and counted, never thrown.
 */
import type { HookConfig } from '../../config/hooks.js';
import type { Logger } from '../log.js';
import { hookEnvironment, type HookFields } from './fields.js';
import { HookLauncher } from './launcher.js';

/** Counters, for the metrics and the tests. */
export interface HookStats {
  /** Runs that finished well (exit 0, or a 2xx answer). */
  ok: number;
  /** Runs that failed (exit status, signal, time limit, no 2xx after the retries). */
  failed: number;
  /** Runs never started: the queue was full, or the server was closing. */
  dropped: number;
}

/** Limits of the runner. */
export interface HookRunnerOptions {
  log: Logger;
  /** Hooks running at once (default 4). */
  concurrency?: number;
  /** Runs waiting before new ones are dropped (default 1000). */
  queueLimit?: number;
  /** First back-off of URL retries in ms (doubles each time; default 500). */
  backoffMs?: number;
}

interface Job {
  hook: HookConfig;
  fields: HookFields;
}

/** Queues and runs hooks. */
export class HookRunner {
  readonly stats: HookStats = { ok: 0, failed: 0, dropped: 0 };
  private readonly queue: Job[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Starts commands from a helper process, so spawning never stalls the server. */
  private readonly launcher = new HookLauncher();
  private readonly concurrency: number;
  private readonly queueLimit: number;
  private readonly backoffMs: number;
  /** Resolvers waiting for the runner to be idle. */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: HookRunnerOptions) {
    this.concurrency = o.concurrency ?? 4;
    this.queueLimit = o.queueLimit ?? 1000;
    this.backoffMs = o.backoffMs ?? 500;
  }

  /** Queues one run; returns at once. */
  enqueue(hook: HookConfig, fields: HookFields): void {
    if (this.stopping.signal.aborted || this.queue.length >= this.queueLimit) {
      this.stats.dropped++;
      this.o.log.warn({ event: 'hook-dropped', hook: fields.event, path: fields.path }, 'hook dropped: too many waiting');
      return;
    }
    this.queue.push({ hook, fields });
    this.pump();
  }

  /** Resolves when nothing runs or waits (tests; a bounded wait is the caller's). */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops: waiting runs are dropped; running ones get `graceMs` to finish,
   * then commands are killed and requests aborted.
   */
  async close(graceMs = 5000): Promise<void> {
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...this.running]), grace]);
      clearTimeout(timer);
    }
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
    await this.launcher.close();
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      const run: Promise<void> = this.run(job).finally(() => {
        this.running.delete(run);
        this.pump();
        if (this.running.size === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
      this.running.add(run);
    }
  }

  private async run({ hook, fields }: Job): Promise<void> {
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(hook.timeout * 1000)]);
    const what = hook.command ? hook.command[0] : hook.url;
    try {
      if (hook.command) await this.launcher.run(hook.command, hookEnvironment(fields), hook.timeout * 1000, signal);
      else if (hook.url) await this.post(hook.url, fields, signal);
      this.stats.ok++;
      this.o.log.debug({ event: 'hook', hook: fields.event, target: what }, 'hook ran');
    } catch (err) {
      this.stats.failed++;
      const reason = signal.aborted && !this.stopping.signal.aborted ? `no result within ${hook.timeout} s` : (err as Error).message;
      this.o.log.warn({ event: 'hook-failed', hook: fields.event, target: what, path: fields.path, reason }, `hook failed: ${reason}`);
    }
  }

  /** POSTs the event; retries network errors, 408, 429 and 5xx with doubling back-off while time remains. */
  private async post(url: string, fields: HookFields, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(fields);
    for (let attempt = 0, wait = this.backoffMs; ; attempt++, wait *= 2) {
      let failure: string;
      try {
        const res = await fetch(url, { method: 'POST', body, signal, headers: { 'content-type': 'application/json', 'user-agent': 'wharf-hooks' }, redirect: 'error' });
        await res.body?.cancel();
        if (res.ok) return;
        failure = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 408 && res.status !== 429) throw new Error(failure);
      } catch (err) {
        if (signal.aborted || (err as Error).message.startsWith('HTTP ')) throw err;
        failure = (err as Error).message;
      }
      if (attempt >= 5) throw new Error(`${failure} (after ${attempt + 1} attempts)`);
      await sleep(wait, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal.removeEventListener('abort', done);
      clearTimeout(timer);
      if (signal.aborted) reject(new Error('aborted'));
      else resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
