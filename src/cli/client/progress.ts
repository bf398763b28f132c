/** Progress display for one-shot transfers: a bar on a terminal, plain lines or nothing otherwise. */
import cliProgress from 'cli-progress';
import type { TransferProgress } from '../../client/index.js';

/** Formats a byte count for humans (1024-based). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** How to show progress. */
export type ProgressMode = 'bar' | 'lines' | 'none';

/** Chooses the mode: bars on a terminal, summary lines when verbose, else nothing. */
export function progressMode(opts: { quiet?: boolean; verbose?: boolean }, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (opts.quiet) return 'none';
  if (stream.isTTY) return 'bar';
  return opts.verbose ? 'lines' : 'none';
}

/** Shows the progress of successive transfers on stderr. */
export class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private current: string | undefined;

  constructor(
    private readonly mode: ProgressMode,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Feeds one progress event (pass as `onProgress`). */
  readonly update = (p: TransferProgress): void => {
    if (this.mode !== 'bar') return;
    if (this.current !== p.name || !this.bar) this.start(p);
    this.bar?.setTotal(p.total ?? Math.max(p.bytes, 1));
    this.bar?.update(p.bytes, payload(p));
  };

  private start(p: TransferProgress): void {
    this.stop();
    this.current = p.name;
    const name = p.name.split('/').pop() ?? p.name;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${name.slice(0, 30)} [{bar}] {percentage}% | {done} / {size} | {speed}/s | ETA {eta_formatted}`,
        hideCursor: false,
        clearOnComplete: false,
        etaBuffer: 20,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(p.total ?? Math.max(p.bytes, 1), p.bytes, payload(p));
  }

  /** Ends the current bar (if any) and prints a summary line in `lines` mode. */
  finish(name: string, bytes: number, ms: number): void {
    this.stop();
    if (this.mode === 'lines') {
      const rate = ms > 0 ? (bytes * 1000) / ms : bytes;
      this.stream.write(`${name}: ${formatBytes(bytes)} in ${(ms / 1000).toFixed(2)} s (${formatBytes(Math.round(rate))}/s)\n`);
    }
  }

  /** Stops the bar without a summary (on errors). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.current = undefined;
  }
}

function payload(p: TransferProgress): Record<string, string> {
  return { done: formatBytes(p.bytes), size: p.total === undefined ? '?' : formatBytes(p.total), speed: formatBytes(Math.round(p.rate)) };
}
