/**
 * Listing scenarios: LIST or MLSD of a directory of N entries in one
 * session. Checks the listing is complete (no server-side cut), and samples
 * the server's memory while it runs, to show whether it stays flat.
 */
import { NAMES } from '../dataset.js';
import { download } from '../ftp/data.js';
import { rssKiB, treeMemory } from '../proc.js';
import { CLIENT_CPU, measure, openSession, quiesce, sleep, type Ctx, type Metrics, type Scenario } from './common.js';

/** Peak RSS growth of the server (tree) while `fn` runs, sampled every 20 ms. */
async function withPeakRss<T>(ctx: Ctx, fn: () => Promise<T>): Promise<{ result: T; peakKiB: number }> {
  const read = async () => (ctx.spec.forks ? (await treeMemory(ctx.server.pid)).rssKiB : rssKiB(ctx.server.pid));
  const base = await read();
  let peak = base;
  let running = true;
  const sampler = (async () => {
    for (let i = 0; running && i < 100_000; i++) {
      peak = Math.max(peak, await read());
      await sleep(20);
    }
  })();
  try {
    const result = await fn();
    return { result, peakKiB: peak - base };
  } finally {
    running = false;
    await sampler;
  }
}

/** LIST or MLSD of the directory of `n` entries. */
export function listing(kind: 'LIST' | 'MLSD', n: number): Scenario {
  return {
    id: `${kind.toLowerCase()}-${n}`,
    title: `${kind} of ${n.toLocaleString('en')} entries`,
    tls: false,
    metrics: [
      { key: 'seconds', label: 'time', unit: 's', better: 'lower', digits: 3 },
      { key: 'peakMiB', label: 'server RSS growth', unit: 'MiB', better: 'lower', digits: 1 },
      CLIENT_CPU,
    ],
    applies: (spec) => kind === 'LIST' || spec.mlsd,
    async run(ctx: Ctx): Promise<Metrics> {
      const c = await openSession(ctx, false);
      try {
        await c.expect(`CWD ${NAMES.listDir(n)}`, 2);
        // One listing first, not measured, for every server alike: the directory's inodes cached, code paths warm.
        await download(c, kind, true, ctx.opts.transferTimeoutMs);
        await quiesce(ctx);
        const { result: m, peakKiB } = await withPeakRss(ctx, () => measure(ctx, () => download(c, kind, true, ctx.opts.transferTimeoutMs)));
        const { lines, seconds, bytes } = m.result;
        if (lines < n) throw new Error(`${kind} returned ${lines} lines for ${n} entries (cut?)`);
        return { seconds, peakMiB: peakKiB / 1024, bytes, clientCpu: m.clientPct };
      } finally {
        await c.quit();
      }
    },
  };
}
