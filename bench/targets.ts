/**
 * The targets of the performance issues (FTP, SFTP, the web view, S3 over
 * FTP, SFTP and HTTP), checked against the medians of the same run: one
 * line each, saying met / missed / not measured, with the numbers compared.
 */
import type { RawRun, Results } from './report.js';

function f(x: number, d = 0): string {
  return Number.isFinite(x) ? x.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a';
}

function verdict(ok: boolean | null): string {
  if (ok === null) return '❔ not measured';
  return ok ? '✅ met' : '❌ missed';
}

/** `a >= b` (or `<=`), null when either is missing. */
function cmp(a: number, op: '>=' | '<=', b: number): boolean | null {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  return op === '>=' ? a >= b : a <= b;
}

/**
 * A front-end's share of a ceiling on one metric, turned so that higher is
 * better: `value ÷ ceiling` when higher is better (throughput), `ceiling ÷
 * value` when lower is (time, CPU). NaN when either is missing or zero.
 */
export function ceilingShare(value: number, ceiling: number, better: 'higher' | 'lower'): number {
  if (!Number.isFinite(value) || !Number.isFinite(ceiling) || value <= 0 || ceiling <= 0) return NaN;
  return better === 'higher' ? value / ceiling : ceiling / value;
}

function all(checks: (boolean | null)[]): boolean | null {
  if (checks.some((c) => c === null)) return null;
  return checks.every(Boolean);
}

/** Markdown bullet lines, one per target. */
export function targetLines(r: Results, run: RawRun): string[] {
  const m = (server: string, id: string, key: string) => r.median(server, id, key);
  const lines: string[] = [];
  const add = (ok: boolean | null, text: string) => lines.push(`- ${verdict(ok)}: ${text}`);
  const sizes = run.scenarios.filter((s) => s.id.startsWith('list-')).map((s) => Number(s.id.slice(5)));
  const biggest = sizes.length > 0 ? Math.max(...sizes) : NaN;
  const clients = (run.options as { clients?: number }).clients ?? 100;

  // The FTP issue, when FTP scenarios ran.
  if (run.scenarios.some((s) => (s.protocol ?? 'ftp') === 'ftp')) {
    const retr = m('wharf', 'retr-big', 'mbps');
    const pipe = m('ceiling', 'node-tcp-pipe-1024k', 'mbps');
    add(
      cmp(retr, '>=', 0.9 * pipe),
      `RETR single stream ≥ 0.9× the minimal Node pipe (1 MiB): ${f(retr)} vs ${f(pipe)} MB/s (${f(retr / pipe, 2)}×); vsftpd ${f(m('vsftpd', 'retr-big', 'mbps'))} MB/s (${f(retr / m('vsftpd', 'retr-big', 'mbps'), 2)}×)`,
    );

    const stor = m('wharf', 'stor-big', 'mbps');
    const vstor = m('vsftpd', 'stor-big', 'mbps');
    add(cmp(stor, '>=', vstor), `STOR ≥ vsftpd: ${f(stor)} vs ${f(vstor)} MB/s`);

    const agg = m('wharf', 'clients', 'mbps');
    const pagg = m('pyftpdlib', 'clients', 'mbps');
    const p99 = m('wharf', 'clients', 'p99');
    const pp99 = m('pyftpdlib', 'clients', 'p99');
    add(
      all([cmp(agg, '>=', pagg), cmp(p99, '<=', pp99)]),
      `${clients} concurrent RETR ≥ pyftpdlib, p99 no worse: ${f(agg)} vs ${f(pagg)} MB/s, p99 ${f(p99, 3)} vs ${f(pp99, 3)} s`,
    );

    const cpu = m('wharf', 'sessions', 'cpuMs');
    const pcpu = m('pyftpdlib', 'sessions', 'cpuMs');
    add(cmp(cpu, '<=', pcpu), `anonymous session CPU ≤ pyftpdlib: ${f(cpu, 3)} vs ${f(pcpu, 3)} ms/session`);

    add(null, 'user logins hash off the event loop, with a bounded credential cache: not measured by this benchmark (anonymous only)');

    for (const kind of ['list', 'mlsd']) {
      const id = `${kind}-${biggest}`;
      const w = m('wharf', id, 'seconds');
      const p = m('pure-ftpd', id, 'seconds');
      add(
        cmp(w, '<=', p),
        `${kind.toUpperCase()} of ${f(biggest)} entries no slower than pure-ftpd: ${f(w, 3)} vs ${f(p, 3)} s; Wharf's RSS grew ${f(m('wharf', id, 'peakMiB'), 1)} MiB during it`,
      );
    }

    const small = m('wharf', 'small-files', 'filesPerS');
    add(
      cmp(small, '>=', 1700),
      `small files ≥ 1,700 files/s: ${f(small)} files/s (pure-ftpd ${f(m('pure-ftpd', 'small-files', 'filesPerS'))}, vsftpd ${f(m('vsftpd', 'small-files', 'filesPerS'))})`,
    );

    const pss = m('wharf', 'idle', 'pssKiB');
    const rss = m('wharf', 'idle', 'rssKiB');
    add(
      cmp(Math.max(pss, rss), '<=', 8),
      `idle session ≤ 8 KiB (aim 4): RSS ${f(rss, 1)} KiB, PSS ${f(pss, 1)} KiB per session (pyftpdlib RSS ${f(m('pyftpdlib', 'idle', 'rssKiB'), 1)} KiB)`,
    );

    if (run.scenarios.some((s) => s.tls)) {
      const checks: (boolean | null)[] = [];
      const parts: string[] = [];
      for (const id of ['tls-retr-big', 'tls-stor-big', 'tls-clients']) {
        const w = m('wharf', id, 'mbps');
        const p = m('pure-ftpd', id, 'mbps');
        checks.push(cmp(w, '>=', p));
        parts.push(`${id.slice(4)} ${f(w)} vs ${f(p)} MB/s`);
      }
      const served = m('wharf', 'tls-clients', 'served');
      checks.push(cmp(served, '>=', clients));
      add(all(checks), `FTPS ≥ pure-ftpd in every TLS scenario, all ${clients} clients served: ${parts.join(', ')}; served ${f(served)}/${clients}`);
      const tcpu = m('wharf', 'tls-sessions', 'cpuMs');
      const ptcpu = m('pyftpdlib', 'tls-sessions', 'cpuMs');
      add(cmp(tcpu, '<=', ptcpu), `TLS session CPU ≤ pyftpdlib: ${f(tcpu, 3)} vs ${f(ptcpu, 3)} ms/session`);
    }
  }

  // The SFTP issue: Wharf at or above OpenSSH's sshd on each, as ratios of the same run.
  if (run.scenarios.some((s) => s.protocol === 'sftp')) {
    const sftp: [string, string, string, string][] = [
      ['sftp-get-big', 'mbps', 'download', 'MB/s'],
      ['sftp-put-big', 'mbps', 'upload', 'MB/s'],
      ['sftp-many', 'mbps', 'concurrent downloads (aggregate)', 'MB/s'],
      ['sftp-logins', 'perS', 'logins', 'logins/s'],
    ];
    for (const [id, key, what, unit] of sftp) {
      const w = m('wharf', id, key);
      const o = m('openssh', id, key);
      add(cmp(w, '>=', o), `SFTP ${what} ≥ OpenSSH: ${f(w)} vs ${f(o)} ${unit} (${f(w / o, 2)}×)`);
    }
  }
  // The web view issue: throughput at or above nginx's, as ratios of the same run.
  if (run.scenarios.some((s) => s.protocol === 'http')) {
    const web: [string, string, string, string, '>=' | '<='][] = [
      ['http-get-big', 'mbps', 'download', 'MB/s', '>='],
      ['http-clients', 'mbps', 'concurrent downloads (aggregate)', 'MB/s', '>='],
    ];
    for (const s of run.scenarios.filter((x) => x.id.startsWith('http-dir-'))) web.push([s.id, 'msPerPage', `directory page (${s.id.slice(9)} entries) time`, 'ms', '<=']);
    for (const [id, key, what, unit, op] of web) {
      const w = m('wharf', id, key);
      const n = m('nginx', id, key);
      add(cmp(w, op, n), `HTTP ${what} ${op === '>=' ? '≥' : '≤'} nginx: ${f(w, unit === 'ms' ? 2 : 0)} vs ${f(n, unit === 'ms' ? 2 : 0)} ${unit} (${f(w / n, 2)}×)`);
    }
  }
  // The S3 issue: RETR and STOR at least 0.8x the direct-SDK ceiling, and every ratio to the ceiling at or above rclone's.
  if (run.scenarios.some((s) => s.protocol === 's3')) {
    for (const [id, what] of [
      ['s3-retr-big', 'RETR'],
      ['s3-stor-big', 'STOR'],
    ] as const) {
      const w = m('wharf-s3', id, 'mbps');
      const c = m('s3-sdk', id, 'mbps');
      add(cmp(w, '>=', 0.8 * c), `S3 ${what} ≥ 0.8× the direct-SDK ceiling: ${f(w)} vs ${f(c)} MB/s (${f(w / c, 2)}×)`);
    }
    const list = run.scenarios.find((s) => s.id.startsWith('s3-list-'))?.id ?? 's3-list';
    const s3: [string, string, string, boolean][] = [
      ['s3-retr-big', 'mbps', 'RETR', true],
      ['s3-stor-big', 'mbps', 'STOR', true],
      [list, 'seconds', 'LIST', false],
      ['s3-small-uploads', 'filesPerS', 'small uploads', true],
    ];
    for (const [id, key, what, higher] of s3) {
      // As ratios to the ceiling (time: ceiling ÷ front-end), so that higher is better for both.
      const ratio = (server: string) => ceilingShare(m(server, id, key), m('s3-sdk', id, key), higher ? 'higher' : 'lower');
      const w = ratio('wharf-s3');
      const rc = ratio('rclone');
      add(cmp(w, '>=', rc), `S3 ${what}, share of the ceiling ≥ rclone's: ${f(w, 2)}× vs ${f(rc, 2)}×`);
    }
  }
  lines.push(...s3FrontLines(r, run));
  return lines;
}

/** The S3 issue through SFTP and HTTP: each share of the direct-SDK ceiling at or above rclone's (`rclone-s3`). */
function s3FrontLines(r: Results, run: RawRun): string[] {
  const lines: string[] = [];
  const rows: [string, string, string, 'higher' | 'lower'][] = [];
  for (const s of run.scenarios) {
    const metric = s.metrics[0];
    if ((s.protocol === 's3-sftp' || s.protocol === 's3-http') && metric) rows.push([s.id, metric.key, s.title.replace(/ \(.*\)$/, ''), metric.better]);
  }
  for (const [id, key, what, better] of rows) {
    const m = (server: string) => r.median(server, id, key);
    const w = ceilingShare(m('wharf-s3'), m('s3-sdk'), better);
    const rc = ceilingShare(m('rclone-s3'), m('s3-sdk'), better);
    const vs = ceilingShare(m('wharf-s3'), m('rclone-s3'), better);
    lines.push(`- ${verdict(cmp(w, '>=', rc))}: ${what}, share of the ceiling ≥ rclone's: ${f(w, 2)}× vs ${f(rc, 2)}× (Wharf vs rclone ${f(vs, 2)}×, higher is better)`);
  }
  return lines;
}
