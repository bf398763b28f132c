/**
 * The opt-in scaling scenarios (issue 16: costs that grow as the work
 * grows), run only when BENCH_SCENARIOS names them (`scale` for all):
 *
 * - `scale-list-N`, `scale-mlsd-N`: LIST / MLSD of a directory of N empty
 *   files (BENCH_SCALE_SIZES: 1,000 to 1,000,000), with the wall time, the
 *   server's CPU, and its memory polled from smaps_rollup during the
 *   transfer (peak Pss of the server, its tree for the forking servers, and
 *   the peak Rss growth over the moment before the command);
 * - `scale-small-K`: the small-files scenario (one session, EPSV + RETR per
 *   file, time-boxed) on files of K KiB (BENCH_SCALE_SMALL_KIB: 1, 4, 64),
 *   after a longer warm-up than its 50 files: 15 s of downloads on a fresh
 *   server (BENCH_SCALE_WARM_S), 2 s for the next sizes.
 *
 * `--plot RAW.json` draws both against the peers (plot.ts).
 */
import { NAMES } from '../dataset.js';
import { download, type TransferResult } from '../ftp/data.js';
import { SCALE_IDS, type Options } from '../options.js';
import { memorySampler, type MemoryPeaks } from '../proc.js';
import { CLIENT_CPU, measure, openSession, sizeLabel, type Ctx, type Measured, type Metrics, type Scenario } from './common.js';
import { smallFilesOf } from './transfer.js';

const KiB_PER_MiB = 1024;

/**
 * Warm-up of the small-files sizes, in seconds of downloads: the first
 * size run on a server, then each of the others. After 50 files, or 2 s,
 * or even 5 s on each size, a freshly started Wharf was still getting
 * faster from one size to the next (the first size at about half the rate
 * of the third, in either order), so the sizes' order showed instead of
 * their cost; with 15 s first both orders ranked the sizes alike.
 */
const WARM_SECONDS = 2;

/** LIST or MLSD of the directory of `n` entries, with the server's memory sampled during it. */
export function scaleListing(kind: 'LIST' | 'MLSD', n: number): Scenario {
  return {
    id: SCALE_IDS.listing(kind, n),
    title: `scaling: ${kind} of ${n.toLocaleString('en')} entries`,
    tls: false,
    optIn: true,
    metrics: [
      { key: 'seconds', label: 'time', unit: 's', better: 'lower', digits: 3 },
      { key: 'usPerEntry', label: 'time per entry', unit: 'µs', better: 'lower', digits: 2 },
      { key: 'cpuSeconds', label: 'server CPU', unit: 's', better: 'lower', digits: 3 },
      { key: 'peakPssMiB', label: 'server peak PSS', unit: 'MiB', better: 'lower', digits: 1 },
      { key: 'growthMiB', label: 'server RSS growth', unit: 'MiB', better: 'lower', digits: 1 },
      CLIENT_CPU,
    ],
    applies: (spec) => (kind === 'LIST' || spec.mlsd) && n <= (spec.maxScaleListing ?? Infinity),
    async run(ctx: Ctx): Promise<Metrics> {
      const timeout = ctx.opts.transferTimeoutMs;
      // Replies may take as long as a transfer: ftp-srv reads and stats the whole directory before its 150.
      const c = await openSession(ctx, false, timeout);
      try {
        // Not measured: a listing of the root (a dozen entries), so machinery a
        // server starts on first use (Wharf's listing worker) is not charged to
        // whichever size runs first.
        await download(c, kind, true, timeout);
        await c.expect(`CWD ${NAMES.listDir(n)}`, 2);
        const sampler = await memorySampler(ctx.server.pid, ctx.spec.forks);
        let m: Measured<TransferResult>;
        let mem: MemoryPeaks;
        try {
          m = await measure(ctx, () => download(c, kind, true, timeout));
        } finally {
          mem = await sampler.stop();
        }
        const { lines, seconds, bytes, reply } = m.result;
        if (lines < n) throw new Error(`${kind} returned ${lines} lines for ${n} entries (cut?), then: ${reply ?? '?'}`);
        return {
          seconds,
          usPerEntry: (seconds / n) * 1e6,
          cpuSeconds: m.serverCpu,
          peakPssMiB: mem.peakPssKiB / KiB_PER_MiB,
          growthMiB: (mem.peakRssKiB - mem.baseRssKiB) / KiB_PER_MiB,
          samples: mem.samples,
          bytes,
          clientCpu: m.clientPct,
        };
      } finally {
        await c.quit();
      }
    },
  };
}

/** Every scaling scenario: the small files first (a big listing can leave a server's heap grown), then the listings, smallest first. */
export function scalingScenarios(opts: Options): Scenario[] {
  const warmed = new WeakSet<object>();
  const list: Scenario[] = opts.scaleSmallSizes.map((size) =>
    smallFilesOf({
      id: SCALE_IDS.small(size),
      title: `scaling: ${opts.smallFiles} files of ${sizeLabel(size)} in one session`,
      tls: false,
      dir: NAMES.smallDir(size, opts.smallSize),
      size,
      optIn: true,
      warmSeconds: WARM_SECONDS,
      firstWarmSeconds: opts.scaleWarmSeconds,
      warmed,
    }),
  );
  for (const n of [...opts.scaleListSizes].sort((a, b) => a - b)) list.push(scaleListing('LIST', n), scaleListing('MLSD', n));
  return list;
}
