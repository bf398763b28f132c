/**
 * TYPE A (ASCII) conversion while streaming. On the wire, lines end in
 * CRLF; on disk, in LF. Both converters keep state across chunks, so a CRLF
 * split between two chunks is handled.
 */

const CR = 0x0d;
const LF = 0x0a;

/** Disk to wire: every LF not already preceded by CR becomes CRLF. */
export class AsciiEncoder {
  private lastWasCR = false;

  /** Converts one chunk. */
  encode(chunk: Uint8Array): Buffer {
    let extra = 0;
    let prevCR = this.lastWasCR;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF && !prevCR) extra++;
      prevCR = b === CR;
    }
    const out = Buffer.allocUnsafe(chunk.length + extra);
    let j = 0;
    prevCR = this.lastWasCR;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === LF && !prevCR) out[j++] = CR;
      out[j++] = b;
      prevCR = b === CR;
    }
    this.lastWasCR = prevCR;
    return out;
  }
}

/** Wire to disk: CRLF becomes LF; a lone CR is kept. */
export class AsciiDecoder {
  private heldCR = false;

  /** Converts one chunk; a CR at its end is held until the next byte is known. */
  decode(chunk: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let j = 0;
    let i = 0;
    if (this.heldCR) {
      this.heldCR = false;
      if (chunk.length === 0) {
        this.heldCR = true;
        return out.subarray(0, 0);
      }
      if (chunk[0] !== LF) out[j++] = CR;
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === CR) {
        if (i + 1 === chunk.length) {
          this.heldCR = true;
          break;
        }
        if (chunk[i + 1] === LF) continue;
      }
      out[j++] = b;
    }
    return out.subarray(0, j);
  }

  /** Flushes a CR held at the very end of the data. */
  end(): Buffer {
    if (!this.heldCR) return Buffer.alloc(0);
    this.heldCR = false;
    return Buffer.from([CR]);
  }
}
