/**
 * SVG plots of the scaling scenarios (scenarios/scaling.ts) from a run's
 * raw data: hand-written SVG, no plotting library. Pure functions from
 * data to an SVG string; `node dist/bench/main.js --plot RAW.json [DIR]`
 * writes them as DIR/scaling-list.svg and DIR/scaling-small-files.svg.
 *
 * - scaling-list.svg: LIST (solid) and MLSD (dashed) time against the
 *   directory's entries, and the server's peak memory (Pss) during them,
 *   both log-log, one colour per server, with a line ∝ N through Wharf's
 *   largest listing for reference;
 * - scaling-small-files.svg: files/s and server CPU per file against the
 *   file size (log-log).
 */
import { Results, type RawRun } from './report.js';

/** One point of a line. */
export interface Point {
  x: number;
  y: number;
}

/** One line of a panel. */
export interface Series {
  /** The server (legend entry, colour). */
  server: string;
  /** What it shows, e.g. LIST or MLSD (the line style). */
  kind: string;
  points: Point[];
  dashed?: boolean;
  /** Sizes (x) where every repetition failed: marked ✕ along the top of the panel. */
  failed?: number[];
}

/** One chart: log-scale axes, ticks at the given x values and at 1-2-5 steps of y. */
export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Ticks of the x axis: value and label. */
  xTicks: { value: number; label: string }[];
  series: Series[];
  /** An extra grey dashed line (e.g. ∝ N), with its label. */
  reference?: { points: Point[]; label: string };
}

/** A figure: a title, a subtitle, panels side by side, a legend of servers and line styles. */
export interface Figure {
  title: string;
  subtitle: string;
  panels: Panel[];
  servers: string[];
  /** Line styles in the legend: kind and whether dashed. */
  styles: { kind: string; dashed: boolean }[];
}

/** Wharf's colour, then the peers'. */
const WHARF_COLOUR = '#d62728';
const PALETTE = ['#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#e377c2', '#7f7f7f', '#bcbd22'];

/** The colour of each server, Wharf (and its variants) in red. */
export function colours(servers: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (const s of servers) out.set(s, s === 'wharf' ? WHARF_COLOUR : (PALETTE[i++ % PALETTE.length] as string));
  return out;
}

/** Escapes text for SVG content and attributes. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number for an axis: 1k, 10k, 1M for big ones; plain with few digits for small ones. */
export function tickLabel(v: number): string {
  if (v >= 1e6 && v % 1e6 === 0) return `${v / 1e6}M`;
  if (v >= 1e3 && v % 1e3 === 0) return `${v / 1e3}k`;
  return String(+v.toPrecision(3));
}

/** The y ticks of a log axis over [lo, hi]: decades, with 2 and 5 between them when the range spans under 2.5 decades. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const steps = Math.log10(hi / lo) < 2.5 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b && out.length < 100; e++) {
    for (const s of steps) {
      const v = +(s * 10 ** e).toPrecision(3);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

/** The nearest of 1, 2, 5 × 10^k below (or above) `v`. */
export function snap(v: number, dir: 'down' | 'up'): number {
  const e = Math.floor(Math.log10(v));
  const m = v / 10 ** e;
  const steps = [1, 2, 5, 10];
  const step = dir === 'down' ? ([...steps].reverse().find((x) => x <= m * 1.0001) ?? 1) : (steps.find((x) => x >= m * 0.9999) ?? 10);
  return +(step * 10 ** e).toPrecision(3);
}

/** A log axis: the domain widened a little around the data, and the mapping to pixels. */
function logScale(values: number[], from: number, to: number, pad: number): { map: (v: number) => number; lo: number; hi: number } {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  let lo = pos.length > 0 ? Math.min(...pos) : 1;
  let hi = pos.length > 0 ? Math.max(...pos) : 10;
  if (hi / lo < 10) {
    // At least a decade, centred on the data (geometrically).
    const mid = Math.sqrt(lo * hi);
    lo = mid / Math.sqrt(10);
    hi = mid * Math.sqrt(10);
  }
  // Padded, then out to the nearest 1-2-5 values, so both ends have a tick.
  lo = snap(lo / pad, 'down');
  hi = snap(hi * pad, 'up');
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  return { lo, hi, map: (v: number) => from + ((Math.log10(v) - l0) / (l1 - l0)) * (to - from) };
}

const f1 = (x: number) => x.toFixed(1);

/** One panel inside the box (x, y, w, h): frame, grid, ticks, labels, lines and markers. */
function panelSvg(p: Panel, box: { x: number; y: number; w: number; h: number }, colour: Map<string, string>): string {
  const m = { left: 62, right: 12, top: 26, bottom: 46 };
  const x0 = box.x + m.left;
  const x1 = box.x + box.w - m.right;
  const y0 = box.y + box.h - m.bottom;
  const y1 = box.y + m.top;
  const all = p.series.flatMap((s) => s.points);
  const xs = logScale([...all.map((q) => q.x), ...p.xTicks.map((t) => t.value)], x0, x1, 1.25);
  const ys = logScale(
    all.map((q) => q.y),
    y0,
    y1,
    1.15,
  );
  const out: string[] = [`<g class="panel">`];
  out.push(`<text x="${f1((x0 + x1) / 2)}" y="${f1(box.y + 16)}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${f1(x0)}" y="${f1(y1)}" width="${f1(x1 - x0)}" height="${f1(y0 - y1)}" fill="none" stroke="#444"/>`);
  // The ends are 1-2-5 values (see logScale): labelled too when the ticks are decades only.
  for (const t of [...new Set([ys.lo, ...logTicks(ys.lo, ys.hi), ys.hi])]) {
    const y = ys.map(t);
    out.push(`<line x1="${f1(x0)}" x2="${f1(x1)}" y1="${f1(y)}" y2="${f1(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${f1(x0 - 5)}" y="${f1(y + 4)}" text-anchor="end" font-size="11">${esc(tickLabel(t))}</text>`);
  }
  for (const t of p.xTicks) {
    const x = xs.map(t.value);
    out.push(`<line x1="${f1(x)}" x2="${f1(x)}" y1="${f1(y1)}" y2="${f1(y0)}" stroke="#ddd"/>`);
    out.push(`<text x="${f1(x)}" y="${f1(y0 + 16)}" text-anchor="middle" font-size="11">${esc(t.label)}</text>`);
  }
  out.push(`<text class="x-label" x="${f1((x0 + x1) / 2)}" y="${f1(y0 + 36)}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`);
  const ly = (y0 + y1) / 2;
  out.push(
    `<text class="y-label" x="${f1(box.x + 14)}" y="${f1(ly)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${f1(box.x + 14)} ${f1(ly)})">${esc(p.yLabel)}</text>`,
  );
  const d = (pts: Point[]) =>
    pts
      .filter((q) => q.x > 0 && q.y > 0)
      .map((q, i) => `${i === 0 ? 'M' : 'L'}${f1(xs.map(q.x))},${f1(ys.map(q.y))}`)
      .join(' ');
  if (p.reference && p.reference.points.length > 1) {
    out.push(
      `<path class="reference" d="${d(p.reference.points)}" fill="none" stroke="#999" stroke-width="1" stroke-dasharray="2 3"><title>${esc(p.reference.label)}</title></path>`,
    );
  }
  let marks = 0;
  for (const s of p.series) {
    const c = colour.get(s.server) ?? '#000';
    for (const x of s.failed ?? []) {
      const what = `${s.server} ${s.kind} failed at ${tickLabel(x)}`;
      out.push(`<text class="failed" x="${f1(xs.map(x))}" y="${f1(y1 + 14 + 13 * marks++)}" text-anchor="middle" font-size="13" fill="${c}"><title>${esc(what)}</title>✕</text>`);
    }
    const width = s.server === 'wharf' ? 2.5 : 1.6;
    const pts = s.points.filter((q) => q.x > 0 && q.y > 0 && Number.isFinite(q.y));
    if (pts.length === 0) continue;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<path class="series" data-server="${esc(s.server)}" data-kind="${esc(s.kind)}" d="${d(pts)}" fill="none" stroke="${c}" stroke-width="${width}"${dash}/>`);
    for (const q of pts) {
      out.push(
        `<circle cx="${f1(xs.map(q.x))}" cy="${f1(ys.map(q.y))}" r="3" fill="${s.dashed ? '#fff' : c}" stroke="${c}"><title>${esc(`${s.server} ${s.kind}: ${tickLabel(q.x)} → ${+q.y.toPrecision(3)}`)}</title></circle>`,
      );
    }
  }
  out.push('</g>');
  return out.join('\n');
}

/** The legend: a swatch per server; below, the line styles, the reference line and the failure mark. */
function legendSvg(fig: Figure, colour: Map<string, string>, top: number): string {
  let y = top;
  const out: string[] = [`<g class="legend">`];
  let x = 70;
  for (const s of fig.servers) {
    const c = colour.get(s) ?? '#000';
    out.push(`<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="${s === 'wharf' ? 2.5 : 1.6}"/>`);
    out.push(`<text x="${x + 27}" y="${y + 4}" font-size="12">${esc(s)}</text>`);
    x += 40 + 7 * s.length;
  }
  // Line styles, the reference and the failure mark on a second row.
  x = 70;
  y += 18;
  for (const st of fig.styles) {
    out.push(`<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="#333" stroke-width="1.6"${st.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x + 27}" y="${y + 4}" font-size="12">${esc(st.kind)}</text>`);
    x += 40 + 7 * st.kind.length;
  }
  const reference = fig.panels.find((p) => p.reference)?.reference;
  if (reference) {
    out.push(`<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="#999" stroke-width="1" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${x + 27}" y="${y + 4}" font-size="12">${esc(reference.label)}</text>`);
    x += 40 + 6.5 * reference.label.length;
  }
  if (fig.panels.some((p) => p.series.some((s) => (s.failed ?? []).length > 0))) {
    out.push(`<text x="${x}" y="${y + 4}" font-size="12">✕ failed in every repetition</text>`);
  }
  out.push('</g>');
  return out.join('\n');
}

/** The SVG of a figure: panels of 480 × 360 side by side under a title, a subtitle and the legend. */
export function figureSvg(fig: Figure): string {
  const pw = 480;
  const ph = 360;
  const head = 96;
  const width = Math.max(1, fig.panels.length) * pw + 20;
  const height = head + ph + 10;
  const colour = colours(fig.servers);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(fig.title)}</text>`,
    `<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">${esc(fig.subtitle)}</text>`,
    legendSvg(fig, colour, 60),
  ];
  fig.panels.forEach((p, i) => out.push(panelSvg(p, { x: 10 + i * pw, y: head, w: pw, h: ph }, colour)));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Sizes (from the scenario ids with this prefix, e.g. `scale-list-`) present in a run, ascending. */
function sizesOf(run: RawRun, prefix: string, parse: (rest: string) => number): number[] {
  const out = run.scenarios.filter((s) => s.id.startsWith(prefix)).map((s) => parse(s.id.slice(prefix.length)));
  return [...new Set(out.filter((n) => Number.isFinite(n) && n > 0))].sort((a, b) => a - b);
}

/** The servers that have a value on any of these scenario ids, in the run's order. */
function serversWith(r: Results, run: RawRun, ids: string[], key: string): string[] {
  return run.servers.map((s) => s.name).filter((name) => ids.some((id) => Number.isFinite(r.median(name, id, key))));
}

/** Sizes where a server has errors and no value on a scenario. */
function failures(r: Results, server: string, sizes: number[], id: (n: number) => string, key: string): number[] {
  return sizes.filter((n) => r.errors(server, id(n)).length > 0 && !Number.isFinite(r.median(server, id(n), key)));
}

/** Points (size, median) of one server over sizes; sizes without a value are left out. */
function line(r: Results, server: string, sizes: number[], id: (n: number) => string, key: string, scale = 1): Point[] {
  return sizes.map((n) => ({ x: n, y: r.median(server, id(n), key) * scale })).filter((q) => Number.isFinite(q.y) && q.y > 0);
}

function subtitle(run: RawRun, what: string): string {
  const reps = Math.max(0, ...run.records.map((x) => x.rep + 1));
  return `${what}; medians of ${reps} repetition${reps === 1 ? '' : 's'}, server on core 0, load generator on core 1; run of ${run.finished.slice(0, 16).replace('T', ' ')} UTC`;
}

/** The listing figure (time and peak memory against entries), or null when the run has no scaling listings. */
export function listingFigure(run: RawRun): Figure | null {
  const r = new Results(run);
  const sizes = sizesOf(run, 'scale-list-', Number);
  if (sizes.length === 0) return null;
  const listId = (n: number) => `scale-list-${n}`;
  const mlsdId = (n: number) => `scale-mlsd-${n}`;
  const servers = serversWith(r, run, [...sizes.map(listId), ...sizes.map(mlsdId)], 'seconds');
  if (servers.length === 0) return null;
  const kinds = [
    { kind: 'LIST', id: listId, dashed: false },
    { kind: 'MLSD', id: mlsdId, dashed: true },
  ];
  const panel = (title: string, yLabel: string, key: string): Panel => ({
    title,
    xLabel: 'entries in the directory (log)',
    yLabel,
    xTicks: sizes.map((n) => ({ value: n, label: tickLabel(n) })),
    series: servers
      .flatMap((server) => kinds.map((k) => ({ server, kind: k.kind, dashed: k.dashed, points: line(r, server, sizes, k.id, key), failed: failures(r, server, sizes, k.id, key) })))
      .filter((s) => s.points.length > 0 || s.failed.length > 0),
  });
  const time = panel('Listing time', 'time (s, log)', 'seconds');
  const top = sizes[sizes.length - 1] as number;
  const anchor = r.median('wharf', listId(top), 'seconds');
  if (Number.isFinite(anchor) && anchor > 0) time.reference = { points: sizes.map((n) => ({ x: n, y: (anchor * n) / top })), label: '∝ N (through Wharf’s largest LIST)' };
  const memory = panel('Server memory during the listing', 'peak PSS of the server (MiB, log)', 'peakPssMiB');
  return {
    title: 'LIST and MLSD of a directory of N entries',
    subtitle: subtitle(run, 'one session, one listing of N empty files'),
    panels: [time, memory],
    servers,
    styles: kinds.map((k) => ({ kind: k.kind, dashed: k.dashed })),
  };
}

/** The small-files figure (files/s and server CPU per file against the file size), or null without scaling small-file results. */
export function smallFilesFigure(run: RawRun): Figure | null {
  const r = new Results(run);
  const prefix = 'scale-small-';
  const sizes = sizesOf(run, prefix, (rest) => Number(rest.replace(/k$/, '')));
  if (sizes.length === 0) return null;
  const id = (kib: number) => `${prefix}${kib}k`;
  const servers = serversWith(r, run, sizes.map(id), 'filesPerS');
  if (servers.length === 0) return null;
  const xTicks = sizes.map((k) => ({ value: k, label: `${tickLabel(k)} KiB` }));
  const series = (key: string) =>
    servers
      .map((server) => ({ server, kind: 'RETR', points: line(r, server, sizes, id, key), failed: failures(r, server, sizes, id, key) }))
      .filter((s) => s.points.length > 0 || s.failed.length > 0);
  const files = (run.options as { smallFiles?: number }).smallFiles;
  return {
    title: 'Small files downloaded one after another in one session',
    subtitle: subtitle(run, `EPSV + RETR per file${files ? `, up to ${files} files` : ''}, time-boxed`),
    panels: [
      { title: 'Rate', xLabel: 'file size (log)', yLabel: 'files/s (log)', xTicks, series: series('filesPerS') },
      { title: 'Server CPU per file', xLabel: 'file size (log)', yLabel: 'server CPU (ms per file, log)', xTicks, series: series('cpuMsPerFile') },
    ],
    servers,
    styles: [],
  };
}

/** Both plots of a run as SVG strings (null where the run has none of those scenarios). */
export function scalingPlots(run: RawRun): { list: string | null; smallFiles: string | null } {
  const list = listingFigure(run);
  const small = smallFilesFigure(run);
  return { list: list ? figureSvg(list) : null, smallFiles: small ? figureSvg(small) : null };
}
