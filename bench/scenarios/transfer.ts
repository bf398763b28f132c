/**
 * Transfer scenarios, plain or over FTPS (PROT P): one big RETR, one big
 * STOR, many clients each fetching a file at once, and many small files
 * fetched one after another in one session.
 */
import { NAMES, removeUpload } from '../dataset.js';
import { download, upload } from '../ftp/data.js';
import type { Options } from '../options.js';
import { CLIENT_CPU, CLIENTS_METRICS, clientsMetrics, GiB, MB, measure, openSession, pool, quiesce, sizeLabel, type Ctx, type Metrics, type Scenario } from './common.js';

function prefix(tls: boolean): string {
  return tls ? 'tls-' : '';
}

function tlsApplies(tls: boolean) {
  return (spec: { tls: boolean }) => !tls || spec.tls;
}

/** RETR of the big file in one session. */
export function retrBig(tls: boolean, opts: Options): Scenario {
  return {
    id: `${prefix(tls)}retr-big`,
    title: `${tls ? 'FTPS ' : ''}RETR ${sizeLabel(opts.bigBytes)}`,
    tls,
    metrics: [
      { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher', digits: 0 },
      { key: 'cpuPerGiB', label: 'server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
      CLIENT_CPU,
    ],
    applies: tlsApplies(tls),
    async run(ctx: Ctx): Promise<Metrics> {
      const c = await openSession(ctx, tls);
      try {
        const m = await measure(ctx, () => download(c, `RETR ${NAMES.big}`, false, ctx.opts.transferTimeoutMs));
        const { bytes, seconds } = m.result;
        if (bytes !== ctx.opts.bigBytes) throw new Error(`short RETR: ${bytes} of ${ctx.opts.bigBytes} bytes`);
        return { mbps: bytes / MB / seconds, cpuPerGiB: m.serverCpu / (bytes / GiB), clientCpu: m.clientPct };
      } finally {
        await c.quit();
      }
    },
  };
}

/** STOR of a big upload into the incoming directory (removed afterwards). */
export function storBig(tls: boolean, opts: Options): Scenario {
  return {
    id: `${prefix(tls)}stor-big`,
    title: `${tls ? 'FTPS ' : ''}STOR ${sizeLabel(opts.bigBytes)}`,
    tls,
    metrics: [
      { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher', digits: 0 },
      { key: 'cpuPerGiB', label: 'server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
      CLIENT_CPU,
    ],
    applies: tlsApplies(tls),
    async run(ctx: Ctx): Promise<Metrics> {
      const name = `up-${ctx.spec.name}-${tls ? 'tls' : 'plain'}-${ctx.rep}-${process.pid}.bin`;
      const c = await openSession(ctx, tls);
      try {
        const m = await measure(ctx, () => upload(c, `STOR ${NAMES.incoming}/${name}`, ctx.opts.bigBytes, ctx.opts.transferTimeoutMs));
        const { bytes, seconds } = m.result;
        return { mbps: bytes / MB / seconds, cpuPerGiB: m.serverCpu / (bytes / GiB), clientCpu: m.clientPct };
      } finally {
        await c.quit();
        await removeUpload(ctx.dataset, name);
      }
    },
  };
}

/** N clients at once, each its own session fetching the client file. */
export function manyClients(tls: boolean, opts: Options): Scenario {
  return {
    id: `${prefix(tls)}clients`,
    title: `${tls ? 'FTPS ' : ''}${opts.clients} clients at once, each login + RETR ${sizeLabel(opts.clientBytes)}`,
    tls,
    metrics: CLIENTS_METRICS,
    applies: tlsApplies(tls),
    async run(ctx: Ctx): Promise<Metrics> {
      const n = ctx.opts.clients;
      const times: number[] = [];
      let bytes = 0;
      let first = Infinity;
      let last = 0;
      const m = await measure(ctx, () =>
        pool(n, n, async () => {
          const t0 = performance.now();
          first = Math.min(first, t0);
          // A client whose greeting takes over 5 s counts as not served (a full accept queue with
          // SYN cookies leaves an FTP client, which waits for the server to speak, hanging).
          const c = await openSession(ctx, tls, 5_000);
          try {
            const r = await download(c, `RETR ${NAMES.client}`, false, ctx.opts.transferTimeoutMs);
            if (r.bytes !== ctx.opts.clientBytes) throw new Error(`short RETR: ${r.bytes} of ${ctx.opts.clientBytes}`);
            const t1 = performance.now();
            last = Math.max(last, t1);
            bytes += r.bytes;
            times.push((t1 - t0) / 1000);
          } finally {
            await c.quit();
          }
        }),
      );
      return clientsMetrics(ctx, m, { n, times, bytes, first, last });
    },
  };
}

/** Small files fetched before the measured ones (at least, and at most with a timed warm-up, going round the files). */
const WARM_FILES = 50;
const MAX_WARM_FILES = 100_000;

/** Which small files a small-files scenario fetches, and how it is named. */
export interface SmallFilesSet {
  id: string;
  title: string;
  tls: boolean;
  /** The directory of the files (inside the root) and their size in bytes. */
  dir: string;
  size: number;
  optIn?: boolean;
  /**
   * Warm up for this long (at least the usual 50 files, going round the
   * files as often as it takes) rather than 50 files: a freshly started
   * Node server is still getting faster after 50...
   */
  warmSeconds?: number;
  /** ...and for this long instead on a server none of the scenarios sharing `warmed` has run on yet. */
  firstWarmSeconds?: number;
  warmed?: WeakSet<object>;
  /**
   * Measure the warm-up's first pass over the files too (`coldCpuMsPerFile`,
   * `coldFilesPerS`): what a server that has just started costs, before a
   * JIT has compiled its per-file path.
   */
  cold?: boolean;
}

/** How long the main small-files scenarios warm up: a fresh Node server gets faster for its first few thousand files. */
const SMALL_WARM_SECONDS = 5;

/** Small files fetched one after another in one session, time-boxed. */
export function smallFiles(tls: boolean, opts: Options): Scenario {
  return smallFilesOf({
    id: `${prefix(tls)}small-files`,
    title: `${tls ? 'FTPS ' : ''}${opts.smallFiles} files of ${sizeLabel(opts.smallSize)} in one session`,
    tls,
    dir: NAMES.small,
    size: opts.smallSize,
    warmSeconds: SMALL_WARM_SECONDS,
    cold: true,
  });
}

/** Fetches files 0..n-1 of `dir` in order until `deadline` (performance.now()); returns how many, each checked for its size. */
async function fetchAll(c: Parameters<typeof download>[0], dir: string, n: number, size: number, deadline: number): Promise<number> {
  let done = 0;
  for (let i = 0; i < n && performance.now() < deadline; i++) {
    const r = await download(c, `RETR ${dir}/${NAMES.smallFile(i)}`, false, 30_000);
    if (r.bytes !== size) throw new Error(`short RETR of a small file: ${r.bytes} of ${size} bytes`);
    done++;
  }
  return done;
}

/** The small-files scenario on a given set of files (the scaling scenarios use other sizes). */
export function smallFilesOf(set: SmallFilesSet): Scenario {
  const { tls, dir, size } = set;
  return {
    id: set.id,
    title: set.title,
    tls,
    ...(set.optIn ? { optIn: true } : {}),
    metrics: [
      { key: 'filesPerS', label: 'rate', unit: 'files/s', better: 'higher', digits: 0 },
      { key: 'cpuMsPerFile', label: 'server CPU', unit: 'ms/file', better: 'lower', digits: 3 },
      { key: 'files', label: 'files fetched', unit: 'files', better: 'higher', digits: 0 },
      ...(set.cold
        ? [
            { key: 'coldFilesPerS', label: 'rate, first pass after start', unit: 'files/s', better: 'higher' as const, digits: 0 },
            { key: 'coldCpuMsPerFile', label: 'server CPU, first pass after start', unit: 'ms/file', better: 'lower' as const, digits: 3 },
          ]
        : []),
      CLIENT_CPU,
    ],
    applies: tlsApplies(tls),
    async run(ctx: Ctx): Promise<Metrics> {
      const c = await openSession(ctx, tls);
      try {
        const n = ctx.opts.smallFiles;
        const cold = set.cold ? await measure(ctx, () => fetchAll(c, dir, n, size, performance.now() + ctx.opts.budgetSeconds * 1000)) : null;
        // Warm up (code paths, JIT) outside the measurement.
        const first = set.warmed !== undefined && !set.warmed.has(ctx.server);
        const warmUntil = performance.now() + ((first ? set.firstWarmSeconds : undefined) ?? set.warmSeconds ?? 0) * 1000;
        set.warmed?.add(ctx.server);
        for (let i = 0; n > 0 && i < MAX_WARM_FILES && (i < Math.min(WARM_FILES, n) || performance.now() < warmUntil); i++) {
          await download(c, `RETR ${dir}/${NAMES.smallFile(i % n)}`, false, 30_000);
        }
        await quiesce(ctx);
        const deadline = performance.now() + ctx.opts.budgetSeconds * 1000;
        const m = await measure(ctx, () => fetchAll(c, dir, n, size, deadline));
        const coldMetrics: Metrics = cold ? { coldFilesPerS: cold.result / cold.wall, coldCpuMsPerFile: (cold.serverCpu * 1000) / cold.result } : {};
        return { filesPerS: m.result / m.wall, cpuMsPerFile: (m.serverCpu * 1000) / m.result, files: m.result, clientCpu: m.clientPct, ...coldMetrics };
      } finally {
        await c.quit();
      }
    },
  };
}
