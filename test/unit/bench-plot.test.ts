/** bench/plot.ts: the scaling plots are drawn from a run's raw data, a line per server, with the right axes and legend. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listingFigure, logTicks, scalingPlots, smallFilesFigure, snap, tickLabel } from '../../bench/plot.js';
import type { RawRecord, RawRun } from '../../bench/report.js';

const SIZES = [1000, 10_000, 100_000, 1_000_000];
const KIB = [1, 4, 64];

/** A run with the scaling scenarios: `mlsd` servers also have MLSD; each value is repeated over two repetitions. */
function fakeRun(servers: { name: string; mlsd: boolean; usPerEntry: number; pss: number; rate: number }[]): RawRun {
  const records: RawRecord[] = [];
  for (const rep of [0, 1]) {
    for (const s of servers) {
      for (const n of SIZES) {
        const metrics = { seconds: (s.usPerEntry * n) / 1e6, peakPssMiB: s.pss, growthMiB: 0.5 };
        records.push({ kind: 'scenario', id: `scale-list-${n}`, server: s.name, rep, metrics });
        if (s.mlsd) records.push({ kind: 'scenario', id: `scale-mlsd-${n}`, server: s.name, rep, metrics });
      }
      for (const k of KIB) records.push({ kind: 'scenario', id: `scale-small-${k}k`, server: s.name, rep, metrics: { filesPerS: s.rate / Math.sqrt(k), cpuMsPerFile: 0.2 * k } });
    }
  }
  // A failed repetition among good ones changes nothing; a size where every one failed is marked.
  records.push({ kind: 'scenario', id: 'scale-list-1000000', server: servers[0]!.name, rep: 2, error: 'timed out' });
  for (const rep of [0, 1]) records.push({ kind: 'scenario', id: 'scale-list-1000000', server: 'failing', rep, error: '226 0 matches total' });
  records.push({ kind: 'scenario', id: 'scale-list-1000', server: 'failing', rep: 0, metrics: { seconds: 0.01, peakPssMiB: 7 } });
  return {
    started: '2026-12-03T10:00:00.000Z',
    finished: '2026-12-03T10:20:00.000Z',
    seconds: 1200,
    options: { smallFiles: 1000 },
    machine: {},
    servers: [...servers.map((s) => ({ name: s.name, note: '' })), { name: 'failing', note: '' }],
    scenarios: [
      ...KIB.map((k) => ({ id: `scale-small-${k}k`, title: `scaling: 1000 files of ${k} KiB`, tls: false, metrics: [] })),
      ...SIZES.flatMap((n) => [
        { id: `scale-list-${n}`, title: `scaling: LIST of ${n}`, tls: false, metrics: [] },
        { id: `scale-mlsd-${n}`, title: `scaling: MLSD of ${n}`, tls: false, metrics: [] },
      ]),
    ],
    ceilings: [],
    records,
  };
}

const SERVERS = [
  { name: 'wharf', mlsd: true, usPerEntry: 5, pss: 60, rate: 1500 },
  { name: 'vsftpd', mlsd: false, usPerEntry: 3.5, pss: 4, rate: 2200 },
  { name: 'py<ftp>', mlsd: true, usPerEntry: 8, pss: 25, rate: 1800 },
];

/** The `<path class="series">` elements of an SVG, as server, kind and path data. */
function seriesPaths(svg: string): { server: string; kind: string; d: string }[] {
  return [...svg.matchAll(/<path class="series" data-server="([^"]*)" data-kind="([^"]*)" d="([^"]*)"/g)].map((m) => ({ server: m[1]!, kind: m[2]!, d: m[3]! }));
}

test('listing plot: per server a LIST line in both panels, MLSD only where the server has it, points in order of size', () => {
  const { list } = scalingPlots(fakeRun(SERVERS));
  assert.ok(list);
  assert.match(list, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(list.trimEnd().endsWith('</svg>'));
  assert.equal((list.match(/<g\b/g) ?? []).length, (list.match(/<\/g>/g) ?? []).length);
  const paths = seriesPaths(list);
  for (const name of ['wharf', 'vsftpd', 'py&lt;ftp&gt;']) {
    assert.equal(paths.filter((p) => p.server === name && p.kind === 'LIST').length, 2, `${name}: LIST in the time and memory panels`);
  }
  assert.equal(paths.filter((p) => p.server === 'vsftpd' && p.kind === 'MLSD').length, 0);
  assert.equal(paths.filter((p) => p.server === 'wharf' && p.kind === 'MLSD').length, 2);
  for (const p of paths.filter((q) => q.server !== 'failing')) {
    const xs = [...p.d.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
    assert.equal(xs.length, SIZES.length, `${p.server} ${p.kind}: a point per size`);
    assert.deepEqual(
      [...xs].sort((a, b) => a - b),
      xs,
      'x grows with the entries',
    );
  }
  // A line ∝ N: equal steps per decade on log-log axes, as straight as a linear server's line.
  assert.match(list, /<path class="reference"/);
  for (const label of [
    '>1k<',
    '>10k<',
    '>100k<',
    '>1M<',
    'entries in the directory (log)',
    'time (s, log)',
    'peak PSS of the server (MiB, log)',
    '>LIST<',
    '>MLSD<',
    '>wharf<',
    '>vsftpd<',
    '>py&lt;ftp&gt;<',
  ]) {
    assert.ok(list.includes(label), `has ${label}`);
  }
  assert.ok(!list.includes('py<ftp>'), 'names are escaped');
  // `failing` has one point and fails at 1M: marked in both panels, nobody else is.
  assert.equal(paths.filter((p) => p.server === 'failing').length, 2);
  assert.equal((list.match(/<text class="failed"/g) ?? []).length, 2);
  assert.ok(list.includes('failing LIST failed at 1M'));
  assert.ok(list.includes('✕ failed in every repetition'));
});

test('small-files plot: a line per server in both panels, the file sizes on the x axis', () => {
  const { smallFiles } = scalingPlots(fakeRun(SERVERS));
  assert.ok(smallFiles);
  const paths = seriesPaths(smallFiles);
  assert.equal(paths.length, 2 * SERVERS.length);
  assert.ok(!smallFiles.includes('class="failed"'));
  for (const name of ['wharf', 'vsftpd', 'py&lt;ftp&gt;']) assert.equal(paths.filter((p) => p.server === name).length, 2);
  for (const label of ['>1 KiB<', '>4 KiB<', '>64 KiB<', 'file size (log)', 'files/s (log)', 'server CPU (ms per file, log)', 'up to 1000 files']) {
    assert.ok(smallFiles.includes(label), `has ${label}`);
  }
});

test('a run without the scaling scenarios has no plots', () => {
  const run = fakeRun(SERVERS);
  run.scenarios = run.scenarios.filter((s) => !s.id.startsWith('scale-'));
  assert.equal(listingFigure(run), null);
  assert.equal(smallFilesFigure(run), null);
  assert.deepEqual(scalingPlots(run), { list: null, smallFiles: null });
});

test('axis helpers: tick labels and 1-2-5 ticks on short log ranges, decades on long ones', () => {
  assert.deepEqual([1000, 10_000, 1_000_000, 0.05, 2.5, 64].map(tickLabel), ['1k', '10k', '1M', '0.05', '2.5', '64']);
  assert.deepEqual(logTicks(0.9, 60), [1, 2, 5, 10, 20, 50]);
  assert.deepEqual(logTicks(0.001, 50), [0.001, 0.01, 0.1, 1, 10]);
  assert.deepEqual(
    [0.248, 3, 7, 1000].map((v) => snap(v, 'down')),
    [0.2, 2, 5, 1000],
  );
  assert.deepEqual(
    [0.248, 3, 7, 1000].map((v) => snap(v, 'up')),
    [0.5, 5, 10, 1000],
  );
});
