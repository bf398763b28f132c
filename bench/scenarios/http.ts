/**
 * HTTP scenarios, against Wharf's web view (`[http]`) and nginx
 * (`autoindex on`, sendfile), both serving the dataset's root:
 *
 * - `http-get-big`: three GETs of the big file in a row (MB/s over their
 *   summed times), each by `curl -o /dev/null` pinned
 *   to the client core (its process's CPU counted as the load generator's;
 *   the time is the process's, spawn to exit), or with
 *   BENCH_HTTP_CLIENT=node by the load generator's raw HTTP client
 *   (http/client.ts: one shared read buffer, bytes counted, not stored;
 *   the time from the connect to the last byte). Neither is the
 *   bottleneck: both used 40-55% of the client core at 2.4-3.2 GB/s, curl
 *   a little more, and curl measured both servers 5-10% faster.
 * - `http-clients`: N clients at once, each a fresh connection and one GET
 *   of the client file, three such rounds one after the other: aggregate
 *   MB/s (all bytes over the rounds' summed spans, each from its first
 *   start to its last finish), per-client times, server CPU per GiB. The
 *   same rounds run for at least 3 s before, not measured, and the
 *   measurement waits until the server is idle: a fresh Node process runs
 *   its first requests in the interpreter, and a Wharf just started sweeps
 *   its trees for leftover uploads in the background (both were measured
 *   before). One round lasts about 0.3 s and swung by ±20% alone.
 * - `http-dir-N`: the page of the directory of N entries (HTML), GET over
 *   and over on one kept-alive connection, time-boxed: time per page and
 *   server CPU per page. The first page (not measured) is kept and checked
 *   to link every entry.
 *
 * Every download checks the status (200), that the body is as long as the
 * file, and that a Content-Length was announced for it.
 */
import { spawn } from 'node:child_process';
import { NAMES } from '../dataset.js';
import { HttpConnection, httpGet, type HttpResult } from '../http/client.js';
import type { Options } from '../options.js';
import { clientChildSeconds, clientCpuGroup } from '../sftpClient.js';
import type { ServerSpec } from '../servers/types.js';
import {
  CLIENT_CPU,
  CLIENTS_METRICS,
  clientsMetrics,
  GiB,
  MB,
  measure,
  percentile,
  pool,
  quiesce,
  sizeLabel,
  type Ctx,
  type Measured,
  type Metrics,
  type Scenario,
  untilIdle,
} from './common.js';

/** Downloads of the big file per measurement. */
const BIG_GETS = 3;

/** Rounds of N clients per measurement, and the least warm-up time before them. */
const CLIENT_ROUNDS = 3;
const WARM_CLIENTS_S = 3;

const httpApplies = (spec: ServerSpec) => (spec.protocols ?? []).includes('http');

/** Where the scenario's clients connect. */
export function target(ctx: Ctx): { host: string; port: number } {
  const { httpPort, host } = ctx.server;
  if (httpPort === undefined) throw new Error(`${ctx.spec.name} does not serve HTTP in this run`);
  return { host, port: httpPort };
}

/** Throws unless `r` is a complete 200 answer of `size` bytes with a Content-Length. */
export function checkFile(r: HttpResult, size: number, what: string): void {
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status}`);
  if (r.bytes !== size || r.contentLength !== size) throw new Error(`${what}: ${r.bytes} bytes received, Content-Length ${r.contentLength}, of ${size}`);
}

/** {@link measure}, with the CPU of the client processes (curl) added to the load generator's. */
async function measureWithClients<T>(ctx: Ctx, fn: () => Promise<T>): Promise<Measured<T>> {
  const c0 = await clientChildSeconds();
  const m = await measure(ctx, fn);
  const clientCpu = m.clientCpu + (await clientChildSeconds()) - c0;
  return { ...m, clientCpu, clientPct: m.wall > 0 ? (clientCpu / m.wall) * 100 : 0 };
}

/** `curl -o /dev/null URL` pinned to the client core, in the client cgroup; resolves with what it says it got. */
export async function curlGet(url: string, cpu: string, timeoutMs: number): Promise<HttpResult> {
  const group = await clientCpuGroup();
  const curl = ['taskset', '-c', cpu, 'curl', '-sS', '-o', '/dev/null', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-w', '%{http_code} %{size_download}', url];
  const argv = group ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', group, ...curl] : curl;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const [status, size] = out.trim().split(' ').map(Number);
      if (code !== 0) return reject(new Error(`curl exited with ${code}: ${err.trim().slice(0, 300)}`));
      // curl does not report the Content-Length; a short body makes it exit 18, so equal is implied.
      resolve({ status: status ?? 0, bytes: size ?? 0, contentLength: size ?? -1, chunked: false, seconds });
    });
  });
}

/** One GET of the big file. */
export function httpGetBig(opts: Options): Scenario {
  const client = opts.httpClient === 'curl' ? 'curl -o /dev/null, process start included' : 'raw Node client, connect included';
  return {
    id: 'http-get-big',
    title: `HTTP GET ${sizeLabel(opts.bigBytes)} (${client})`,
    tls: false,
    protocol: 'http',
    metrics: [
      { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher', digits: 0 },
      { key: 'cpuPerGiB', label: 'server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
      CLIENT_CPU,
    ],
    applies: httpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const t = target(ctx);
      const size = ctx.opts.bigBytes;
      const timeoutMs = ctx.opts.transferTimeoutMs;
      const get = () =>
        ctx.opts.httpClient === 'curl'
          ? curlGet(`http://${t.host}:${t.port}/${NAMES.big}`, ctx.opts.clientCpu, timeoutMs)
          : httpGet(t.host, t.port, `/${NAMES.big}`, { timeoutMs });
      // Several downloads in a row, their bytes over their summed times: one 0.3-0.5 s download swings by ±20% on these machines.
      const m = await measureWithClients(ctx, async () => {
        let seconds = 0;
        for (let i = 0; i < BIG_GETS; i++) {
          const r = await get();
          checkFile(r, size, `GET /${NAMES.big}`);
          seconds += r.seconds;
        }
        return seconds;
      });
      const bytes = size * BIG_GETS;
      return { mbps: bytes / MB / m.result, cpuPerGiB: m.serverCpu / (bytes / GiB), clientCpu: m.clientPct };
    },
  };
}

/** N clients at once, each a fresh connection fetching the client file. */
export function httpClients(opts: Options): Scenario {
  return {
    id: 'http-clients',
    title: `HTTP: ${opts.clients} clients at once, each connect + GET ${sizeLabel(opts.clientBytes)}`,
    tls: false,
    protocol: 'http',
    metrics: CLIENTS_METRICS,
    applies: httpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const t = target(ctx);
      const n = ctx.opts.clients;
      const size = ctx.opts.clientBytes;
      const get = async (): Promise<HttpResult> => {
        // As for FTP: a client not connected within 5 s counts as not served.
        const r = await httpGet(t.host, t.port, `/${NAMES.client}`, { timeoutMs: ctx.opts.transferTimeoutMs, connectTimeoutMs: 5_000 });
        checkFile(r, size, `GET /${NAMES.client}`);
        return r;
      };
      // Warm-up, every server alike: the same requests for at least WARM_CLIENTS_S, not measured (a fresh Node process runs its
      // first requests in the interpreter), then until the server is idle (a start-up sweep of a server just started is not measured either).
      const warmUntil = performance.now() + WARM_CLIENTS_S * 1000;
      for (let round = 0; round === 0 || (performance.now() < warmUntil && round < 20); round++) {
        const warm = await pool(n, n, get);
        const failed = warm.filter((w) => w.status === 'rejected').length;
        if (failed > 0) ctx.note(`${failed} of ${n} warm-up downloads failed`);
      }
      await quiesce(ctx);
      if (!(await untilIdle(ctx))) ctx.note('the server was still busy 10 s after the warm-up');
      const times: number[] = [];
      let bytes = 0;
      let span = 0;
      // CLIENT_ROUNDS rounds of n at once, one after the other: the rate is all their bytes over the rounds' summed spans.
      const m = await measure(ctx, async () => {
        const settled: PromiseSettledResult<void>[] = [];
        for (let round = 0; round < CLIENT_ROUNDS; round++) {
          let first = Infinity;
          let last = 0;
          const results = await pool(n, n, async () => {
            const t0 = performance.now();
            first = Math.min(first, t0);
            const r = await get();
            const t1 = performance.now();
            last = Math.max(last, t1);
            bytes += r.bytes;
            times.push((t1 - t0) / 1000);
          });
          settled.push(...results);
          if (last > first) span += last - first;
        }
        return settled;
      });
      return clientsMetrics(ctx, m, { n, times, bytes, first: 0, last: span, rounds: CLIENT_ROUNDS });
    },
  };
}

/** `10k` for 10000, else the number. */
function countLabel(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

/**
 * Links to the directory's entries in a page: each entry has one
 * `href="PREFIX...` (`entry-` in the dataset, `obj-` in the S3 store), on
 * every server (Wharf, nginx, rclone link entries by their bare names).
 */
export function linkedEntries(page: Buffer, prefix = 'entry-'): number {
  let count = 0;
  const needle = Buffer.from(`href="${prefix}`);
  for (let i = page.indexOf(needle); i >= 0; i = page.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** The directory page of `n` entries, over and over on one kept-alive connection, time-boxed. */
export function httpDirPage(opts: Options): Scenario {
  const n = opts.httpDirEntries;
  return {
    id: `http-dir-${countLabel(n)}`,
    title: `HTTP directory page of ${n.toLocaleString('en')} entries, up to ${opts.httpDirRequests} GETs on one kept-alive connection`,
    tls: false,
    protocol: 'http',
    metrics: [
      { key: 'msPerPage', label: 'time per page', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'p99Ms', label: 'page time p99', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'cpuMsPerPage', label: 'server CPU', unit: 'ms/page', better: 'lower', digits: 2 },
      { key: 'pageKiB', label: 'page size', unit: 'KiB', better: 'lower', digits: 0 },
      { key: 'pages', label: 'pages fetched', unit: 'pages', better: 'higher', digits: 0 },
      CLIENT_CPU,
    ],
    applies: httpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const path = `/${NAMES.listDir(n)}/`;
      const loop = await pageLoop(ctx, target(ctx), path, n, 'entry-', (fn) => measure(ctx, fn));
      const { measured: m, times, bytes, reconnects } = loop;
      const pages = times.length;
      const out: Metrics = {
        msPerPage: (m.wall * 1000) / pages,
        p99Ms: percentile(times, 99),
        cpuMsPerPage: (m.serverCpu * 1000) / pages,
        pageKiB: bytes / pages / 1024,
        pages,
        clientCpu: m.clientPct,
      };
      if (reconnects > 0) out.reconnects = reconnects;
      return out;
    },
  };
}

/** What {@link pageLoop} saw: the measurement, each page's time (ms), the bytes of the pages, and reconnections. */
export interface PageLoop<R> {
  measured: R;
  times: number[];
  bytes: number;
  reconnects: number;
}

/**
 * GETs the directory page `path` on one kept-alive connection: once, kept
 * and checked to link `n` entries named `prefix...` (not measured), then
 * over and over inside `measured` (up to BENCH_HTTP_DIR_REQUESTS pages
 * within BENCH_BUDGET_S), connecting again if the server closed.
 */
export async function pageLoop<R>(
  ctx: Ctx,
  t: { host: string; port: number },
  path: string,
  n: number,
  prefix: string,
  measured: (fn: () => Promise<void>) => Promise<R>,
): Promise<PageLoop<R>> {
  const timeoutMs = ctx.opts.transferTimeoutMs;
  let conn = await HttpConnection.connect(t.host, t.port);
  let reconnects = 0;
  try {
    // Warm-up, kept and checked: every entry linked.
    const page = await conn.get(path, { timeoutMs, keep: true });
    if (page.status !== 200) throw new Error(`GET ${path}: HTTP ${page.status}`);
    const links = linkedEntries(page.body ?? Buffer.alloc(0), prefix);
    if (links < n) throw new Error(`GET ${path}: ${links} entries linked of ${n}`);
    await quiesce(ctx);
    const deadline = performance.now() + ctx.opts.budgetSeconds * 1000;
    const times: number[] = [];
    let bytes = 0;
    const m = await measured(async () => {
      for (let i = 0; i < ctx.opts.httpDirRequests && performance.now() < deadline; i++) {
        if (!conn.usable) {
          conn.close();
          conn = await HttpConnection.connect(t.host, t.port);
          reconnects++;
        }
        const r = await conn.get(path, { timeoutMs });
        if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}`);
        times.push(r.seconds * 1000);
        bytes += r.bytes;
      }
    });
    if (reconnects > 0) ctx.note(`the server closed the kept-alive connection ${reconnects} times in ${times.length} pages`);
    return { measured: m, times, bytes, reconnects };
  } finally {
    conn.close();
  }
}

/** The HTTP scenarios, in the order they run. */
export function httpScenarios(opts: Options): Scenario[] {
  return [httpGetBig(opts), httpClients(opts), httpDirPage(opts)];
}
