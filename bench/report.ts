/**
 * Turns the raw records of a run into bench/results.md: the ceilings, a
 * table of medians with min-max per server, the ratio of Wharf to each
 * peer, the issue's targets checked against the same run, and the errors.
 */
import type { MetricDef } from './scenarios/common.js';
import { ceilingShare, targetLines } from './targets.js';

/** One measurement (a scenario or ceiling, on one server, in one repetition). */
export interface RawRecord {
  kind: 'scenario' | 'ceiling';
  id: string;
  server: string;
  rep: number;
  metrics?: Record<string, number>;
  error?: string;
  /** Remarks, such as why some clients of a scenario failed. */
  notes?: string[];
}

/** Everything a run saved. */
export interface RawRun {
  started: string;
  finished: string;
  seconds: number;
  options: object;
  machine: Record<string, string>;
  /** `protocols` is absent in runs saved before SFTP was measured (FTP only); `variantOf` marks a variant of Wharf (not a peer). */
  servers: { name: string; note: string; protocols?: string[]; variantOf?: string }[];
  scenarios: { id: string; title: string; tls: boolean; protocol?: string; metrics: MetricDef[] }[];
  ceilings: { id: string; title: string; metrics: MetricDef[] }[];
  records: RawRecord[];
}

/** Median, min and max of some values. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Summarises values (NaN-free). */
export function summarise(values: number[]): Summary | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { median, min: v[0] as number, max: v[v.length - 1] as number, n: v.length };
}

/** Looks up summaries by server, id and metric. */
export class Results {
  constructor(readonly run: RawRun) {}

  /** Values of a metric over the repetitions. */
  values(server: string, id: string, key: string): number[] {
    return this.run.records.filter((r) => r.server === server && r.id === id && r.metrics && key in r.metrics).map((r) => (r.metrics as Record<string, number>)[key] as number);
  }

  /** The summary of a metric, or null. */
  get(server: string, id: string, key: string): Summary | null {
    return summarise(this.values(server, id, key));
  }

  /** The median of a metric, or NaN. */
  median(server: string, id: string, key: string): number {
    return this.get(server, id, key)?.median ?? NaN;
  }

  /** Errors of a server on a scenario. */
  errors(server: string, id: string): string[] {
    return this.run.records.filter((r) => r.server === server && r.id === id && r.error).map((r) => r.error as string);
  }
}

/** Formats a number with thousands separators and `digits` decimals. */
export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(s: Summary | null, digits: number, errors: string[]): string {
  if (!s) return errors.length > 0 ? 'failed' : 'n/a';
  const range = s.n > 1 ? ` (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : '';
  const failed = errors.length > 0 ? ` ⚠${errors.length}` : '';
  return `${fmt(s.median, digits)}${range}${failed}`;
}

function ratioCell(w: number, p: number): string {
  if (!Number.isFinite(w) || !Number.isFinite(p) || p === 0) return 'n/a';
  const q = w / p;
  return `${q < 0.1 ? q.toPrecision(2) : fmt(q, 2)}×`;
}

/** Load generator CPU (% of its core) above which a result may be limited by the client. */
const SATURATED = 90;

/** Other processes' use of the server's core (%) above which a result is marked noisy. */
const NOISY = 10;

/** Counts and noise-level memory deltas have no meaningful ratio. */
const RATIO_SKIP = new Set(['clientCpu', 'served', 'files', 'open', 'peakMiB', 'growthMiB', 'usPerEntry', 'samples', 'noise', 'pages', 'pageKiB', 'reconnects']);

/** One table group: the scenarios of one protocol and the servers that serve it. */
interface Group {
  protocol: string;
  /** Wharf's column in this group (`wharf`, or `wharf-s3` for S3). */
  wharf: string;
  servers: string[];
  scenarios: RawRun['scenarios'];
  /** A section heading, prefixed with the protocol for all but FTP. */
  heading: (text: string) => string;
}

/** The headings' names of the protocols other than FTP. */
const PROTOCOL_NAMES: Record<string, string> = { sftp: 'SFTP', http: 'HTTP', s3: 'S3 over FTP', 's3-sftp': 'S3 over SFTP', 's3-http': 'S3 over HTTP' };

/** The direct-SDK ceiling of the S3 groups. */
const S3_CEILING = 's3-sdk';

/** FTP (and FTPS) first, then SFTP, HTTP, and S3 over FTP, SFTP and HTTP; a group without scenarios or servers is left out. */
function groups(run: RawRun): Group[] {
  const out: Group[] = [];
  for (const protocol of ['ftp', 'sftp', 'http', 's3', 's3-sftp', 's3-http']) {
    const scenarios = run.scenarios.filter((s) => (s.protocol ?? 'ftp') === protocol);
    const servers = run.servers.filter((s) => (s.protocols ?? ['ftp']).includes(protocol)).map((s) => s.name);
    if (scenarios.length === 0 || servers.length === 0) continue;
    const wharf = protocol.startsWith('s3') ? 'wharf-s3' : 'wharf';
    const name = PROTOCOL_NAMES[protocol] ?? protocol.toUpperCase();
    out.push({ protocol, wharf, servers, scenarios, heading: (text) => (protocol === 'ftp' ? text : `${name}: ${text}`) });
  }
  return out;
}

/**
 * The S3 front-ends' share of the direct-SDK ceiling: per metric the SDK
 * also has, each front-end against it, turned so that 1× is the ceiling
 * and higher is better (see {@link ceilingShare}).
 */
function ceilingTable(r: Results, heading: (text: string) => string, scenarios: RawRun['scenarios'], fronts: string[]): string[] {
  const out = [`## ${heading(`share of the direct-SDK ceiling (medians)`)}`, ''];
  out.push(
    `Each front-end against the same work done with the AWS SDK (\`${S3_CEILING}\`): front-end ÷ SDK for ↑ metrics, SDK ÷ front-end for ↓ ones (time, the S3 server's CPU), so 1× is the ceiling and higher is better on every row.`,
    '',
  );
  out.push(`| scenario | metric | ${fronts.join(' | ')} |`, `|---|---|${fronts.map(() => '---:|').join('')}`);
  for (const s of scenarios) {
    for (const m of s.metrics.filter((x) => !RATIO_SKIP.has(x.key))) {
      const c = r.median(S3_CEILING, s.id, m.key);
      if (!Number.isFinite(c)) continue;
      const cells = fronts.map((f) => {
        const q = ceilingShare(r.median(f, s.id, m.key), c, m.better);
        return Number.isFinite(q) ? `${q < 0.1 ? q.toPrecision(2) : fmt(q, 2)}×` : 'n/a';
      });
      out.push(`| ${s.title} | ${m.label} (${m.unit}) | ${cells.join(' | ')} |`);
    }
  }
  out.push('');
  return out;
}

/** The peer with the best median on a metric (highest or lowest), or null. */
function bestPeer(r: Results, peers: string[], id: string, m: MetricDef): { name: string; value: number } | null {
  let top: { name: string; value: number } | null = null;
  for (const name of peers) {
    const value = r.median(name, id, m.key);
    if (!Number.isFinite(value)) continue;
    if (!top || (m.better === 'higher' ? value > top.value : value < top.value)) top = { name, value };
  }
  return top;
}

/** A signed difference in a metric's unit, e.g. `+0.021`. */
function deltaText(d: number, digits: number): string {
  if (!Number.isFinite(d)) return '';
  return `${d >= 0 ? '+' : '−'}${fmt(Math.abs(d), digits)}`;
}

/**
 * Wharf's variants (e.g. with the console on) against plain Wharf in the
 * same run: variant ÷ wharf and the difference, per metric. For a
 * lower-is-better metric above 1× is the variant's overhead.
 */
function variantTable(r: Results, heading: (text: string) => string, scenarios: RawRun['scenarios'], variants: string[]): string[] {
  const out = [`## ${heading('Wharf variants ÷ wharf (medians)')}`, ''];
  out.push(
    "The same build with more turned on, against plain `wharf` in the same run: the ratio, and the difference in the metric's unit. For ↓ metrics (CPU, time) above 1× is what the variant costs; for ↑ metrics (rates) below 1×.",
    '',
  );
  out.push(`| scenario | metric | | ${variants.map((v) => `${v} ÷ wharf`).join(' | ')} |`, `|---|---|---|${variants.map(() => '---:|').join('')}`);
  for (const s of scenarios) {
    for (const m of s.metrics.filter((x) => !RATIO_SKIP.has(x.key))) {
      const w = r.median('wharf', s.id, m.key);
      if (!Number.isFinite(w)) continue;
      const cells = variants.map((v) => {
        const x = r.median(v, s.id, m.key);
        if (!Number.isFinite(x)) return 'n/a';
        return `${ratioCell(x, w)} (${deltaText(x - w, (m.digits ?? 0) + 1)})`;
      });
      out.push(`| ${s.title} | ${m.label} (${m.unit}) | ${m.better === 'higher' ? '↑' : '↓'} | ${cells.join(' | ')} |`);
    }
  }
  out.push('');
  return out;
}

/** The markdown report. */
export function renderReport(run: RawRun): string {
  const r = new Results(run);
  const reps = Math.max(0, ...run.records.map((x) => x.rep + 1));
  const out: string[] = [];
  out.push('# Wharf benchmark results', '');
  out.push(`Generated by \`npm run bench\` on ${run.finished} in ${fmt(run.seconds)} s (${reps} repetition${reps === 1 ? '' : 's'}, interleaved).`);
  out.push(
    `Machine: ${Object.entries(run.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}.`,
  );
  out.push(
    'Each server is pinned to core 0 and the load generator (one Node process, raw FTP over many sockets; for SFTP, OpenSSH `sftp` processes or the ssh2 client in that process; for HTTP, a raw HTTP/1.1 client in that process) to core 1.',
  );
  out.push(
    'Cells: median (min–max); ⚠N = N repetitions failed (see Errors); ‡ = the load generator used over 90% of its core there, so the figure may be client-bound; § = other processes on this shared machine used over 10% of the server core during it (median), even after up to 3 attempts. MB = 10^6 bytes. Server CPU comes from a cpuacct cgroup per server (every process it forks included) where the machine has one, else /proc (see "server CPU from" above).',
    '',
  );
  out.push('Servers: ' + run.servers.map((s) => `**${s.name}** (${s.note})`).join('; ') + '.', '');

  if (run.ceilings.length > 0) {
    out.push('## Ceilings', '', '| ceiling | ' + run.ceilings[0]!.metrics.map((m) => `${m.label} (${m.unit})`).join(' | ') + ' |');
    out.push('|---|' + run.ceilings[0]!.metrics.map(() => '---:|').join(''));
    for (const c of run.ceilings) {
      const sat = `${r.median('ceiling', c.id, 'clientCpu') > SATURATED ? ' ‡' : ''}${r.median('ceiling', c.id, 'noise') > NOISY ? ' §' : ''}`;
      out.push(
        `| ${c.title} | ` + c.metrics.map((m, i) => cell(r.get('ceiling', c.id, m.key), m.digits ?? 0, r.errors('ceiling', c.id)) + (i === 0 ? sat : '')).join(' | ') + ' |',
      );
    }
    out.push('');
  }

  for (const g of groups(run)) {
    const { servers: cols, scenarios, heading, wharf } = g;
    const variantOf = new Map(run.servers.filter((x) => x.variantOf).map((x) => [x.name, x.variantOf as string]));
    const peerCols = cols.filter((x) => x !== wharf && !variantOf.has(x));
    const variantCols = cols.filter((x) => variantOf.get(x) === wharf);
    out.push(`## ${heading('Results')}`, '', `| scenario | metric | ${cols.join(' | ')} |`, `|---|---|${cols.map(() => '---:|').join('')}`);
    for (const s of scenarios) {
      for (const m of s.metrics.filter((x) => x.key !== 'clientCpu')) {
        const cells = cols.map((name) => {
          const first = m === s.metrics[0];
          const text = cell(r.get(name, s.id, m.key), m.digits ?? 0, first ? r.errors(name, s.id) : []);
          if (!first) return text;
          const marks = `${r.median(name, s.id, 'clientCpu') > SATURATED ? ' ‡' : ''}${r.median(name, s.id, 'noise') > NOISY ? ' §' : ''}`;
          return `${text}${marks}`;
        });
        out.push(`| ${s.title} | ${m.label} (${m.unit}) | ${cells.join(' | ')} |`);
      }
    }
    out.push('');

    if (peerCols.length > 0 && cols.includes(wharf)) {
      // With several peers, one more column: Wharf against the best of them on that metric.
      const best = peerCols.length > 1;
      out.push(`## ${heading('Wharf ÷ peer (medians)')}`, '', 'Above 1× is better for Wharf when higher is better (↑), below 1× when lower is better (↓).', '');
      const head = [...peerCols.map((p) => `vs ${p}`), ...(best ? ['vs best peer'] : [])];
      out.push(`| scenario | metric | | ${head.join(' | ')} |`, `|---|---|---|${head.map(() => '---:|').join('')}`);
      for (const s of scenarios) {
        for (const m of s.metrics.filter((x) => !RATIO_SKIP.has(x.key))) {
          const w = r.median(wharf, s.id, m.key);
          const cells = peerCols.map((p) => ratioCell(w, r.median(p, s.id, m.key)));
          if (best) {
            const top = bestPeer(r, peerCols, s.id, m);
            cells.push(top ? `${ratioCell(w, top.value)} (${top.name})` : 'n/a');
          }
          out.push(`| ${s.title} | ${m.label} (${m.unit}) | ${m.better === 'higher' ? '↑' : '↓'} | ${cells.join(' | ')} |`);
        }
      }
      out.push('');
    }

    if (g.protocol.startsWith('s3') && cols.includes(S3_CEILING)) {
      out.push(
        "`s3-sdk` is no front-end: the same work done with the AWS SDK straight against the store, the ceiling of any front-end (Wharf ÷ s3-sdk is the share of it Wharf reaches). The S3 server runs on the load generator's core.",
        '',
      );
      const fronts = cols.filter((x) => x !== S3_CEILING && !variantOf.has(x));
      if (fronts.length > 0) out.push(...ceilingTable(r, heading, scenarios, fronts));
    }
    if (variantCols.length > 0 && cols.includes(wharf)) out.push(...variantTable(r, heading, scenarios, variantCols));

    out.push(`## ${heading('Load generator CPU (% of its core, median)')}`, '', 'The client must not be the bottleneck: near 100% a figure is client-bound (‡ above).', '');
    if (g.protocol === 'sftp') out.push("For the OpenSSH `sftp` client processes this includes their CPU (a cgroup of their own) besides the Node process's.", '');
    out.push(`| scenario | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:|').join('')}`);
    for (const s of scenarios) {
      if (!s.metrics.some((m) => m.key === 'clientCpu')) continue;
      out.push(`| ${s.title} | ${cols.map((name) => fmt(r.median(name, s.id, 'clientCpu'))).join(' | ')} |`);
    }
    out.push('');
  }

  const targets = targetLines(r, run);
  if (targets.length > 0) out.push("## The issues' targets", '', ...targets, '');

  const errs = run.records.filter((x) => x.error || x.notes);
  if (errs.length > 0) {
    out.push('## Errors, partial failures and notes', '');
    for (const e of errs) {
      const text = e.error ?? (e.notes ?? []).join('; ');
      out.push(`- ${e.server} · ${e.id} · rep ${e.rep + 1}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
