/**
 * The primary of a node with `workers = N`: forks the workers (node:cluster,
 * which shares the control, implicit FTPS, SFTP and HTTP listeners between
 * them), holds the node's limits and bans for them (StateHost, without
 * Redis), replaces a worker that dies (with a growing back-off while they
 * keep dying young), reaches every worker on reload and shutdown, and runs
 * the node's one admin listener over all of them (./console.ts).
 */
import type { Cluster, Worker } from 'node:cluster';
import { ConfigError, type WharfConfig } from '../../config/load.js';
import type { Logger } from '../../events/log.js';
import { ServerEvents } from '../../events/events.js';
import { StateHost } from '../../state/ipc-host.js';
import type { SharedState } from '../../state/types.js';
import { stateFor } from '../state.js';
import type { ListeningAddresses } from '../server.js';
import { isWorkerMessage, type AskOp, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { NodeConsole } from './console.js';
import { respawnDelay } from './plan.js';

/** How the primary runs. */
export interface ClusterPrimaryOptions {
  cluster: Cluster;
  config: WharfConfig;
  count: number;
  logger: Logger;
  /** Reads the config again (SIGHUP, `POST /api/reload`); without it reload is refused. */
  reloadConfig?: () => Promise<WharfConfig>;
  /** Longest wait for all workers to listen at start (ms, default 60 s). */
  startTimeoutMs?: number;
}

/** A worker that dies younger than this counts as a crash in a row: the next respawn waits longer. */
const YOUNG_MS = 10_000;
/** Longest wait for a worker's answer. */
const ASK_MS = 5000;

/** One place among the workers. */
interface Slot {
  slot: number;
  worker: Worker | null;
  startedAt: number;
  listening: boolean;
  /** Deaths in a row of workers that died young. */
  crashes: number;
  timer: NodeJS.Timeout | null;
}

interface Asked {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The primary process of a node. */
export class ClusterPrimary {
  readonly events = new ServerEvents();
  readonly state: SharedState;
  private readonly host: StateHost | null;
  private readonly slots: Slot[] = [];
  private readonly asked = new Map<number, Asked & { worker: number }>();
  private nextAsk = 1;
  private closing = false;
  private console: NodeConsole | null = null;
  private current: WharfConfig;
  private starting: { resolve(a: ListeningAddresses): void; reject(err: Error): void } | null = null;
  private firstAddresses: ListeningAddresses | null = null;

  constructor(private readonly opts: ClusterPrimaryOptions) {
    const c = opts.config;
    this.current = c;
    // With Redis the workers share it directly; the primary needs it only for the console's bans.
    this.state = stateFor(c, opts.logger);
    this.host = c.state ? null : new StateHost(this.state);
    for (let i = 1; i <= opts.count; i++) this.slots.push({ slot: i, worker: null, startedAt: 0, listening: false, crashes: 0, timer: null });
  }

  /** Forks the workers; resolves once every one listens (the node's addresses), or rejects with the first one's problems. */
  async start(): Promise<ListeningAddresses> {
    const started = new Promise<ListeningAddresses>((resolve, reject) => (this.starting = { resolve, reject }));
    const limit = this.opts.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => this.failStart(new Error(`the workers did not all start within ${limit / 1000} s`)), limit);
    for (const s of this.slots) this.fork(s);
    try {
      const addresses = await started;
      if (this.current.admin) {
        this.console = new NodeConsole({ primary: this, config: this.current, log: this.opts.logger });
        const admin = await this.console.listen().catch((err: unknown) => {
          throw Object.assign(err as Error, { setting: 'admin.port' });
        });
        return { ...addresses, admin };
      }
      return addresses;
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The workers listening now, by slot. */
  get live(): { slot: number; pid: number }[] {
    return this.slots.filter((s) => s.worker && s.listening).map((s) => ({ slot: s.slot, pid: s.worker?.process.pid ?? 0 }));
  }

  /** Asks every listening worker; resolves with the answers of those that gave one in time. */
  async askAll(op: AskOp, args: (string | number)[] = [], timeoutMs = ASK_MS): Promise<unknown[]> {
    const workers = this.slots.flatMap((s) => (s.worker && s.listening ? [s.worker] : []));
    const answers = await Promise.allSettled(workers.map((w) => this.ask(w, op, args, timeoutMs)));
    return answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  }

  /**
   * Reloads every worker (and checks the new config here first, so an
   * invalid one is refused once). Resolves with a worker's account of what
   * changed; rejects with a ConfigError when the config is invalid or a worker refused it.
   */
  async reload(): Promise<{ reloaded: string[]; restartNeeded: string[] }> {
    if (!this.opts.reloadConfig) throw new ConfigError(['reload: this server was not started from a config file']);
    const next = await this.opts.reloadConfig();
    const workers = this.slots.flatMap((s) => (s.worker && s.listening ? [s.worker] : []));
    const answers = await Promise.allSettled(workers.map((w) => this.ask(w, 'reload', [], 30_000)));
    const refused = answers.flatMap((a) => (a.status === 'rejected' ? [(a.reason as Error).message] : []));
    if (refused.length > 0) throw new ConfigError([...new Set(refused)]);
    const first = answers.find((a) => a.status === 'fulfilled');
    const result = (first?.value as { reloaded: string[]; restartNeeded: string[] } | undefined) ?? { reloaded: [], restartNeeded: [] };
    if (JSON.stringify(next.admin) !== JSON.stringify(this.current.admin)) result.restartNeeded.push('admin');
    // The admin listener and the workers' count stay as started; the rest is the workers' own.
    this.current = { ...next, admin: this.current.admin, server: { ...next.server, workers: this.current.server.workers } };
    this.opts.logger.info({ event: 'reload', workers: answers.length, restartNeeded: result.restartNeeded }, `reloaded ${answers.length} worker(s)`);
    return result;
  }

  /** Closes every worker gracefully (each within `shutdown_grace`, then killed), then the console and the state. */
  async close(): Promise<void> {
    this.closing = true;
    const graceMs = this.current.server.shutdown_grace * 1000;
    const exits: Promise<void>[] = [];
    for (const s of this.slots) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      const w = s.worker;
      if (!w) continue;
      exits.push(this.stopWorker(w, graceMs + 5000));
    }
    await Promise.all(exits);
    await this.console?.close();
    await this.state.close();
  }

  private stopWorker(w: Worker, boundMs: number): Promise<void> {
    if (w.isDead()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const kill = setTimeout(() => {
        this.opts.logger.warn({ event: 'worker-killed', pid: w.process.pid }, 'a worker did not close in time; killed');
        w.process.kill('SIGKILL');
      }, boundMs);
      w.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      this.post(w, { wharf: 'close' });
    });
  }

  private fork(s: Slot): void {
    s.timer = null;
    if (this.closing) return;
    const w = this.opts.cluster.fork({ WHARF_WORKER_SLOT: String(s.slot), WHARF_WORKERS: String(this.opts.count) });
    s.worker = w;
    s.startedAt = Date.now();
    s.listening = false;
    w.on('message', (m: unknown) => this.onMessage(s, w, m));
    w.on('error', (err: Error) => this.opts.logger.warn({ event: 'worker-ipc-error', slot: s.slot, err: err.message }, 'talking to a worker failed'));
    w.once('exit', (code: number | null, signal: string | null) => void this.onExit(s, w, code, signal));
  }

  private onMessage(s: Slot, w: Worker, m: unknown): void {
    if (this.host?.handle(w.id, m, (answer) => this.post(w, answer))) return;
    if (!isWorkerMessage(m)) return;
    this.onWorkerMessage(s, m);
  }

  private onWorkerMessage(s: Slot, m: WorkerMessage): void {
    switch (m.wharf) {
      case 'listening':
        s.listening = true;
        this.firstAddresses ??= m.addresses;
        this.opts.logger.info({ event: 'worker-listening', slot: s.slot, pid: s.worker?.process.pid }, `worker ${s.slot} listening`);
        if (this.starting && this.slots.every((x) => x.listening)) {
          this.starting.resolve(this.firstAddresses);
          this.starting = null;
        }
        return;
      case 'failed':
        if (this.starting) this.failStart(new ConfigError(m.problems));
        else this.opts.logger.error({ event: 'worker-failed', slot: s.slot, problems: m.problems }, `worker ${s.slot} could not start: ${m.problems.join('; ')}`);
        return;
      case 'answer': {
        const a = this.asked.get(m.id);
        if (!a) return;
        this.asked.delete(m.id);
        clearTimeout(a.timer);
        if (m.error !== undefined) a.reject(new Error(m.error));
        else a.resolve(m.value);
        return;
      }
      case 'event':
        if (m.name === 'transfer') this.events.emit('transfer', m.event);
        else this.events.emit('ban', m.event);
    }
  }

  private async onExit(s: Slot, w: Worker, code: number | null, signal: string | null): Promise<void> {
    if (s.worker === w) s.worker = null;
    s.listening = false;
    for (const [id, a] of this.asked) {
      if (a.worker !== w.id) continue;
      this.asked.delete(id);
      clearTimeout(a.timer);
      a.reject(new Error(`worker ${s.slot} ended`));
    }
    const freed = (await this.host?.releaseAll(w.id)) ?? { connections: 0, anonymous: 0 };
    if (this.closing) return;
    if (this.starting) return this.failStart(new Error(`worker ${s.slot} exited during start (${signal ?? `code ${code}`})`));
    const young = Date.now() - s.startedAt < YOUNG_MS;
    s.crashes = young ? s.crashes + 1 : 0;
    const delayMs = respawnDelay(s.crashes);
    this.opts.logger.warn(
      { event: 'worker-exited', slot: s.slot, pid: w.process.pid, code, signal, freed, respawnInMs: delayMs },
      `worker ${s.slot} exited (${signal ?? `code ${code}`}); replacing it${delayMs ? ` in ${delayMs} ms` : ''}`,
    );
    s.timer = setTimeout(() => this.fork(s), delayMs);
  }

  private failStart(err: Error): void {
    const starting = this.starting;
    this.starting = null;
    starting?.reject(err);
  }

  private ask(w: Worker, op: AskOp, args: (string | number)[], timeoutMs: number): Promise<unknown> {
    const id = this.nextAsk++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        reject(new Error(`a worker did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.asked.set(id, { resolve, reject, timer, worker: w.id });
      this.post(w, { wharf: 'ask', id, op, args });
    });
  }

  private post(w: Worker, m: PrimaryMessage | object): void {
    try {
      // With a callback, a failed write (the worker just died: EPIPE) is reported there, not as an 'error' event.
      if (!w.isDead() && w.isConnected()) w.send(m, undefined, {}, () => undefined);
    } catch {
      // It is ending; its exit is handled.
    }
  }
}
