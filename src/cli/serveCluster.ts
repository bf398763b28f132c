/**
 * `wharf serve` with `workers = N` (N > 1): the primary process forks N
 * workers (node:cluster re-runs this same command in each, with
 * WHARF_WORKER_SLOT set) and owns the signals: SIGTERM/SIGINT close every
 * worker gracefully, SIGHUP reloads every one. It prints the listening
 * lines once, when all workers listen. A worker runs the server, answers
 * the primary, and ends when told to (or when the primary is gone).
 */
import cluster from 'node:cluster';
import { ConfigError, type WharfConfig } from '../config/load.js';
import { ClusterPrimary } from '../host/cluster/primary.js';
import { ClusterWorker } from '../host/cluster/worker.js';
import { checkSplit } from '../host/cluster/plan.js';
import type { StateChannel } from '../state/ipc.js';
import { listenProblem, nodeName, printListening, reloadRefused, serveConfig, serveLogger, untilStopped, type ServeOptions } from './serve.js';

/** True in a worker this command forked. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env.WHARF_WORKER_SLOT !== undefined;
}

/** Runs the primary until SIGTERM/SIGINT; returns the exit code. */
export async function servePrimary(opts: ServeOptions, config: WharfConfig, count: number): Promise<number> {
  checkSplit(config, count);
  const logger = serveLogger(config, { worker: 0 });
  const primary = new ClusterPrimary({ cluster, config, count, logger, reloadConfig: opts.config ? () => serveConfig(opts) : undefined });
  // Ctrl-C reaches the whole process group: the workers leave shutting down to the primary.
  let stopping: NodeJS.Signals | null = null;
  const early = (signal: NodeJS.Signals) => (stopping = signal);
  process.on('SIGTERM', early);
  process.on('SIGINT', early);
  try {
    printListening(await primary.start());
  } catch (err) {
    process.off('SIGTERM', early);
    process.off('SIGINT', early);
    throw listenProblem(config, err);
  }
  logger.info({ event: 'workers-started', workers: primary.live }, `${count} workers listening`);
  const reload = () => {
    primary.reload().catch((err: unknown) => reloadRefused(logger, 'reload-failed', 'the old config stays in force', err));
  };
  process.off('SIGTERM', early);
  process.off('SIGINT', early);
  await untilStopped(logger, () => primary.close(), reload, stopping);
  return 0;
}

/** The IPC channel of this worker to its primary. */
function channel(): StateChannel {
  return {
    send: (m) => {
      // With a callback, a failed write (the primary is gone) is not an 'error' event; the cluster ends this worker.
      if (process.connected) process.send?.(m, undefined, {}, () => undefined);
    },
    onMessage: (l) => process.on('message', l),
    offMessage: (l) => process.off('message', l),
  };
}

/** Sends `message` to the primary and resolves once it is written. */
function tell(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Runs one worker until the primary closes it; returns the exit code. */
export async function serveWorker(opts: ServeOptions): Promise<number> {
  const slot = Number(process.env.WHARF_WORKER_SLOT);
  const count = Number(process.env.WHARF_WORKERS);
  // The primary decides when to stop: a signal to the whole group only ends this worker once.
  let requested = false;
  let stop: () => void = () => (requested = true);
  const signalled = () => stop();
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGHUP', ignore);
  process.on('SIGTERM', signalled);
  let worker: ClusterWorker;
  let config: WharfConfig;
  try {
    config = await serveConfig(opts);
    const logger = serveLogger(config, { worker: slot });
    worker = new ClusterWorker({
      slot,
      count,
      config,
      logger,
      node: nodeName(config),
      channel: channel(),
      loadConfig: opts.config ? () => serveConfig(opts) : undefined,
      onClose: () => stop(),
    });
    await worker.start().catch((err: unknown) => {
      throw listenProblem(config, err);
    });
  } catch (err) {
    await tell({ wharf: 'failed', problems: err instanceof ConfigError ? err.problems : [String(err)] });
    process.disconnect?.();
    return 2;
  }
  const closed = new Promise<void>((done) => {
    stop = () => {
      stop = () => undefined;
      void worker.close().then(done);
    };
    if (requested) stop();
  });
  await tell({ wharf: 'listening', addresses: worker.server.addresses });
  await closed;
  process.off('SIGTERM', signalled);
  process.off('SIGINT', ignore);
  process.off('SIGHUP', ignore);
  process.disconnect?.();
  return 0;
}
