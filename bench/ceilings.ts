/**
 * The ceilings the FTP servers are compared with, measured in the same run
 * on the same cores: loopback TCP with iperf3, and a minimal Node server
 * piping the big file into a socket (1 MiB and 64 KiB chunks, and over TLS).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { NAMES, type Dataset } from './dataset.js';
import type { Options } from './options.js';
import { coreBusySeconds, cpuSplit, selfCpuSeconds } from './proc.js';
import { noise, type MetricDef, type Metrics } from './scenarios/common.js';
import { freePort, spawnPinned, stopGroup } from './servers/launch.js';

const execFileP = promisify(execFile);
const HERE = path.dirname(new URL(import.meta.url).pathname);

/** Metrics of every ceiling. */
export const CEILING_METRICS: MetricDef[] = [
  { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher', digits: 0 },
  { key: 'cpuPerGiB', label: 'server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
  { key: 'clientCpu', label: 'load generator CPU', unit: '% of a core', better: 'lower', digits: 0 },
];

/** One ceiling. */
export interface Ceiling {
  id: string;
  title: string;
  run(opts: Options, ds: Dataset, workDir: string): Promise<Metrics>;
}

async function retry<T>(times: number, fn: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < times; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw last;
}

/** What iperf3 -J reports (the parts used). */
interface IperfReport {
  end: { sum_received: { bits_per_second: number }; cpu_utilization_percent: { host_total: number; remote_total: number } };
}

/** iperf3 between the two cores for a few seconds. */
const iperf: Ceiling = {
  id: 'iperf3',
  title: 'loopback TCP (iperf3, 128 KiB writes)',
  async run(opts, _ds, workDir) {
    const port = await freePort();
    const server = spawnPinned('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(port)], { cpu: opts.serverCpu, logFile: path.join(workDir, 'iperf3.log') });
    try {
      const seconds = opts.quick ? 1 : 3;
      // iperf3 -J reports some failures (a server not ready yet, or busy) as JSON with `error`: retried like a failed start.
      const j = await retry(15, async () => {
        const { stdout } = await execFileP('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-J'], { timeout: (seconds + 20) * 1000, maxBuffer: 1 << 24 });
        const parsed = JSON.parse(stdout) as Partial<IperfReport> & { error?: string };
        if (parsed.error !== undefined || !parsed.end?.sum_received) throw new Error(`iperf3: ${parsed.error ?? 'no result'}`);
        return parsed as IperfReport;
      });
      const mbps = j.end.sum_received.bits_per_second / 8 / 1e6;
      const serverPct = j.end.cpu_utilization_percent.remote_total;
      return { mbps, cpuPerGiB: serverPct / 100 / ((mbps * 1e6) / (1 << 30)), clientCpu: j.end.cpu_utilization_percent.host_total };
    } finally {
      await stopGroup(server, 2000);
    }
  },
};

async function startPipe(opts: Options, ds: Dataset, workDir: string, mode: 'tcp' | 'tls', chunk: number): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const args = [path.join(HERE, 'pipeServer.js'), JSON.stringify({ mode, file: path.join(ds.root, NAMES.big), chunk, port, cert: ds.cert.cert, key: ds.cert.key })];
  const child = spawnPinned(process.execPath, args, { cpu: opts.serverCpu, logFile: path.join(workDir, 'pipe.log') });
  await retry(
    50,
    () =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve();
        });
        s.once('error', reject);
      }),
  );
  return { child, port };
}

/** Reads everything the pipe server sends; returns bytes. */
function readAll(mode: 'tcp' | 'tls', port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const buffer = Buffer.allocUnsafe(1 << 20);
    const socket =
      mode === 'tls'
        ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
        : net.connect({ host: '127.0.0.1', port, onread: { buffer, callback: (n) => ((bytes += n), true) } });
    if (mode === 'tls') socket.on('data', (c: Buffer) => void (bytes += c.length));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('pipe read timed out'));
    }, timeoutMs);
    socket.once(mode === 'tls' ? 'secureConnect' : 'connect', () => socket.write('g'));
    socket.once('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(bytes);
    });
  });
}

function pipeCeiling(mode: 'tcp' | 'tls', chunk: number): Ceiling {
  const kib = chunk >= 1 << 20 ? `${chunk >> 20} MiB` : `${chunk >> 10} KiB`;
  return {
    id: `node-${mode}-pipe-${chunk >> 10}k`,
    title: `minimal Node ${mode === 'tls' ? 'TLS ' : ''}pipe, ${kib} chunks`,
    async run(opts, ds, workDir) {
      const { child, port } = await startPipe(opts, ds, workDir, mode, chunk);
      try {
        const pid = child.pid as number;
        const core = Number(opts.serverCpu.split(/[,-]/)[0] ?? 0);
        const [s0, k0] = await Promise.all([cpuSplit(pid, false), coreBusySeconds(core)]);
        const c0 = selfCpuSeconds();
        const t0 = performance.now();
        const bytes = await readAll(mode, port, opts.transferTimeoutMs);
        const wall = (performance.now() - t0) / 1000;
        const c1 = selfCpuSeconds();
        const [s1, k1] = await Promise.all([cpuSplit(pid, false), coreBusySeconds(core)]);
        if (bytes !== opts.bigBytes) throw new Error(`pipe sent ${bytes} of ${opts.bigBytes} bytes`);
        return {
          mbps: bytes / 1e6 / wall,
          cpuPerGiB: (s1.total - s0.total) / (bytes / (1 << 30)),
          clientCpu: ((c1 - c0) / wall) * 100,
          noise: noise(k1 - k0 - (s1.total - s0.total), wall),
        };
      } finally {
        await stopGroup(child, 2000);
      }
    },
  };
}

/** The ceilings, in report order. */
export function allCeilings(opts: Options): Ceiling[] {
  const list = [iperf, pipeCeiling('tcp', 1 << 20), pipeCeiling('tcp', 64 << 10)];
  if (opts.tls) list.push(pipeCeiling('tls', 1 << 20));
  return list;
}
