/**
 * Bandwidth caps: a Transform that passes bytes through at no more than a
 * given rate, in slices of a tenth of a second's worth.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Limits throughput to `bytesPerSecond`. */
export class Throttle extends Transform {
  private readonly start = performance.now();
  private sent = 0;
  private readonly slice: number;
  /** The wait for the next slice, cleared when the transfer is cut. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly bytesPerSecond: number) {
    super();
    this.slice = Math.max(1024, Math.floor(bytesPerSecond / 10));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pushSlices(chunk, 0, done);
  }

  private pushSlices(chunk: Buffer, offset: number, done: TransformCallback): void {
    if (offset >= chunk.length) {
      done();
      return;
    }
    const end = Math.min(chunk.length, offset + this.slice);
    const due = (this.sent / this.bytesPerSecond) * 1000 - (performance.now() - this.start);
    const go = () => {
      this.timer = null;
      if (this.destroyed) return;
      this.sent += end - offset;
      this.push(chunk.subarray(offset, end));
      this.pushSlices(chunk, end, done);
    };
    if (due > 0) this.timer = setTimeout(go, due);
    else go();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    cb(err);
  }
}
