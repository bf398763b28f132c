/**
 * What every scenario shares: its shape, the metrics it reports, the
 * context it runs in, and measuring a piece of work (wall time, the
 * server's CPU from /proc, the load generator's own CPU).
 */
import type { Dataset } from '../dataset.js';
import { Control } from '../ftp/control.js';
import type { Options } from '../options.js';
import { coreBusySeconds, selfCpuSeconds, serverCpu } from '../proc.js';
import type { Protocol, RunningServer, ServerSpec } from '../servers/types.js';

/** How to read a metric. */
export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Decimal places in the report. */
  digits?: number;
}

/** Metric values of one run of one scenario, by key. */
export type Metrics = Record<string, number>;

/** Where a scenario runs. */
export interface Ctx {
  server: RunningServer;
  spec: ServerSpec;
  opts: Options;
  dataset: Dataset;
  rep: number;
  /** Records a remark for the report (e.g. why some clients failed). */
  note(msg: string): void;
  /** Records how much of the server's core other processes used during a measurement (%). */
  noise(pct: number): void;
}

/** One scenario. */
export interface Scenario {
  id: string;
  title: string;
  tls: boolean;
  /** The protocol it measures; FTP when absent. */
  protocol?: Protocol;
  /** Run only when BENCH_SCENARIOS names it (by id or prefix), never in the default run. */
  optIn?: boolean;
  metrics: MetricDef[];
  applies(spec: ServerSpec): boolean;
  /** Returns metric values; `clientCpu` (load generator CPU %) is added by the harness if measured. */
  run(ctx: Ctx): Promise<Metrics>;
}

/** True when `spec` serves the protocol scenario `sc` measures (servers are FTP only unless they say otherwise). */
export function serves(spec: ServerSpec, sc: Scenario): boolean {
  return (spec.protocols ?? ['ftp']).includes(sc.protocol ?? 'ftp');
}

/** What {@link measure} saw. */
export interface Measured<T> {
  result: T;
  wall: number;
  serverCpu: number;
  clientCpu: number;
  /** Load generator CPU as % of one core over the wall time. */
  clientPct: number;
  /** User time of other processes on the server's core, as % of the wall time. */
  noisePct: number;
}

/**
 * Runs `fn` and measures wall time, server CPU, load generator CPU, and the
 * "noise": CPU time (user + system) that other processes (other people's
 * tests on a shared machine) spent on the server's core meanwhile (for the
 * direct-SDK ceiling, on the S3 store's core, less the store's CPU and,
 * when it shares that core, the load generator's). The
 * server's CPU is read again after its `settle()` (if any) and `settleMs`,
 * so work it finishes after `fn` is counted; the wall time is `fn`'s.
 */
export async function measure<T>(ctx: Ctx, fn: () => Promise<T>, settleMs = 0): Promise<Measured<T>> {
  const tree = ctx.spec.forks;
  // The direct-SDK ceiling has no server: its work is the store's and this process's, so its noise is read on the store's core.
  const direct = ctx.server.direct === true;
  const core = firstCore(direct ? ctx.opts.s3Cpu : ctx.opts.serverCpu);
  const selfOnCore = direct && core === firstCore(ctx.opts.clientCpu);
  const [s0, k0] = await Promise.all([serverCpu(ctx.server, tree), coreBusySeconds(core)]);
  const c0 = selfCpuSeconds();
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const c1 = selfCpuSeconds();
  // Work the server deferred (hooks still queued) is part of what was measured.
  const t1 = performance.now();
  const remark = ctx.server.settle ? await ctx.server.settle() : null;
  if (remark) ctx.note(remark);
  if (settleMs > 0) await sleep(settleMs);
  const settled = (performance.now() - t1) / 1000;
  const [s1, k1] = await Promise.all([serverCpu(ctx.server, tree), coreBusySeconds(core)]);
  const noisePct = noise(k1 - k0 - (s1.total - s0.total) - (selfOnCore ? c1 - c0 : 0), wall + settled);
  ctx.noise(noisePct);
  return { result, wall, serverCpu: s1.total - s0.total, clientCpu: c1 - c0, clientPct: wall > 0 ? ((c1 - c0) / wall) * 100 : 0, noisePct };
}

/** The first core of a taskset CPU list ("0", "0,1", "2-3"). */
function firstCore(list: string): number {
  return Number(list.split(/[,-]/)[0] ?? 0);
}

/** After a warm-up: lets the server finish work it deferred (queued hooks) before a measurement starts. */
export async function quiesce(ctx: Ctx): Promise<void> {
  await ctx.server.settle?.();
}

/**
 * Waits until the server has been idle (under `quietPct` of a core (a profiler's sampling uses 2-4%) over a
 * 100 ms window) or `maxMs` has passed: work a fresh server does after it
 * started listening (a start-up sweep of its trees) or that a warm-up left
 * running then does not count in the measurement. True when it was idle.
 */
export async function untilIdle(ctx: Pick<Ctx, 'server' | 'spec'>, maxMs = 10_000, quietPct = 5): Promise<boolean> {
  const tree = ctx.spec.forks;
  const deadline = performance.now() + maxMs;
  let before = (await serverCpu(ctx.server, tree)).total;
  while (performance.now() < deadline) {
    await sleep(100);
    const now = (await serverCpu(ctx.server, tree)).total;
    if (((now - before) / 0.1) * 100 < quietPct) return true;
    before = now;
  }
  return false;
}

/**
 * Other processes' share of the server's core (%), from their CPU seconds
 * there over `wall` seconds; below 3 clock ticks it is measurement grain, 0.
 */
export function noise(foreignSeconds: number, wall: number): number {
  if (wall <= 0 || foreignSeconds < 0.03) return 0;
  return Math.round((foreignSeconds / wall) * 1000) / 10;
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Opens a logged-in session (TLS first when `secure`), TYPE I; `timeoutMs` bounds each reply. */
export async function openSession(ctx: Ctx, secure: boolean, timeoutMs = 30_000): Promise<Control> {
  const c = await Control.connect({ host: ctx.server.host, port: ctx.server.port, timeoutMs });
  c.earlyDataTls = ctx.spec.earlyDataTls ?? false;
  try {
    await c.open(secure);
    await c.expect('TYPE I', 2);
    return c;
  } catch (err) {
    c.destroy();
    throw err;
  }
}

/** The p-th percentile (0-100) of values, by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Runs `count` tasks with at most `limit` in flight; returns settled results in order. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const out = new Array<PromiseSettledResult<T>>(count);
  let next = 0;
  const worker = async () => {
    for (let guard = 0; next < count && guard < 10_000_000; guard++) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await task(i) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

/** The first distinct error messages of rejected results. */
export function errorSummary(results: PromiseSettledResult<unknown>[], max = 3): string {
  const msgs = new Set<string>();
  for (const r of results) {
    if (r.status === 'rejected') msgs.add(r.reason instanceof Error ? r.reason.message : String(r.reason));
    if (msgs.size >= max) break;
  }
  return [...msgs].join('; ');
}

/** Bytes per GiB, MB (decimal). */
export const GiB = 1 << 30;
export const MB = 1e6;

/** Common metric definitions. */
export const CLIENT_CPU: MetricDef = { key: 'clientCpu', label: 'load generator CPU', unit: '% of a core', better: 'lower', digits: 0 };

/** A byte size as "1 GiB", "10 MiB" or "4 KiB". */
export function sizeLabel(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= 1 << 20) return `${+(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${+(bytes / 1024).toFixed(1)} KiB`;
}

/** The metrics of the many-clients scenarios (FTP, SFTP, HTTP). */
export const CLIENTS_METRICS: MetricDef[] = [
  { key: 'mbps', label: 'aggregate', unit: 'MB/s', better: 'higher', digits: 0 },
  { key: 'p50', label: 'per-client time p50', unit: 's', better: 'lower', digits: 3 },
  { key: 'p99', label: 'per-client time p99', unit: 's', better: 'lower', digits: 3 },
  { key: 'served', label: 'clients served', unit: 'of N', better: 'higher', digits: 0 },
  { key: 'cpuPerGiB', label: 'server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
  CLIENT_CPU,
];

/** What a many-clients run saw: per-client times, bytes, and when the first started and the last ended (ms). */
export interface ClientsRun {
  n: number;
  times: number[];
  bytes: number;
  first: number;
  last: number;
  /** Rounds of n clients measured one after the other (1 when absent): `served` is per round. */
  rounds?: number;
}

/** The many-clients metrics from a run; throws when every client failed, notes when some did. */
export function clientsMetrics(ctx: Ctx, m: Measured<PromiseSettledResult<unknown>[]>, run: ClientsRun): Metrics {
  const { n, times, bytes, first, last } = run;
  const rounds = run.rounds ?? 1;
  const failed = m.result.filter((r) => r.status === 'rejected').length;
  if (failed === n * rounds) throw new Error(`all ${n} clients failed: ${errorSummary(m.result)}`);
  const out: Metrics = {
    mbps: bytes / MB / ((last - first) / 1000),
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    served: n - failed / rounds,
    cpuPerGiB: m.serverCpu / (bytes / GiB),
    clientCpu: m.clientPct,
  };
  if (failed > 0) {
    out.failures = failed;
    ctx.note(`${failed} of ${n * rounds} clients failed: ${errorSummary(m.result)}`);
  }
  return out;
}
