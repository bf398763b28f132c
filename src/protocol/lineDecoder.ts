/**
 * Incremental decoder for the FTP control connection (RFC 959 section 4.1,
 * Telnet NVT lines). Takes TCP chunks, keeps the remainder, strips Telnet
 * IAC sequences and enforces a maximum line length.
 *
 * Common chunks (whole lines, no IAC) are split without copying; only a
 * line that spans chunks is buffered, so an idle session holds no buffer.
 */

const IAC = 0xff;
const LF = 0x0a;
const CR = 0x0d;

/** One decoded event: a complete line, or a line that went over the limit. */
export type LineEvent =
  | { kind: 'line'; line: string }
  /** The current line passed `maxLength`; it is being discarded up to the next LF. */
  | { kind: 'too-long' }
  /** The discarded line went on for more than `maxLength` again: a flood. */
  | { kind: 'flood' };

/** Events of one chunk, and the bytes left unread when decoding stopped early. */
export type LineEvents = LineEvent[] & { rest?: Uint8Array };

function decodeLine(bytes: Uint8Array): string {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === CR) end--;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}

/** Stateful line splitter; one per control connection. */
export class LineDecoder {
  /** Bytes of the current, incomplete line (IAC already removed). */
  private partial: Buffer | null = null;
  private discarding = 0;
  private iacPending = 0;

  /** @param maxLength longest accepted line in bytes, without its line ending. */
  constructor(private readonly maxLength = 4096) {}

  /**
   * Feeds one chunk; returns the events it completes, in order. When
   * `stopAfter` returns true for a line, decoding stops right after that
   * line and the unread bytes are returned in `rest` (the start of a TLS
   * handshake after AUTH TLS must not be read as text).
   */
  push(chunk: Uint8Array, stopAfter?: (line: string) => boolean): LineEvents {
    const events: LineEvents = [];
    let start = 0;
    // The first IAC of the chunk, found once: lines before it take the fast path.
    const iacAt = indexOf(chunk, IAC, 0);
    while (start < chunk.length) {
      const simple = this.partial === null && this.discarding === 0 && this.iacPending === 0;
      const lf = simple ? indexOf(chunk, LF, start) : -1;
      if (lf !== -1 && lf - start <= this.maxLength + 1 && (iacAt === -1 || iacAt > lf)) {
        // Fast path: a whole line inside this chunk, nothing to unescape.
        const line = decodeLine(chunk.subarray(start, lf));
        events.push({ kind: 'line', line });
        start = lf + 1;
        if (stopAfter?.(line)) {
          events.rest = chunk.subarray(start);
          return events;
        }
        continue;
      }
      const stopped = this.slow(chunk, start, events, stopAfter);
      if (stopped !== null) {
        events.rest = chunk.subarray(stopped);
        return events;
      }
      break;
    }
    return events;
  }

  /** Bytes held for an incomplete line (for memory accounting and tests). */
  get pending(): number {
    return this.partial?.length ?? 0;
  }

  /**
   * Byte-by-byte path from `from` to the end of the chunk. Returns the
   * offset to stop at when `stopAfter` matched a line, else null.
   */
  private slow(chunk: Uint8Array, from: number, events: LineEvents, stopAfter?: (line: string) => boolean): number | null {
    const bytes: number[] = [];
    const flush = () => {
      if (bytes.length === 0) return;
      const add = Buffer.from(bytes);
      this.partial = this.partial ? Buffer.concat([this.partial, add]) : add;
      bytes.length = 0;
    };
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.iacPending > 0) {
        this.iacPending = this.telnet(b, bytes);
        continue;
      }
      if (b === IAC) {
        this.iacPending = 1;
        continue;
      }
      if (b === LF) {
        if (this.discarding > 0) {
          this.discarding = 0;
          bytes.length = 0;
          continue;
        }
        flush();
        const line = decodeLine(this.partial ?? Buffer.alloc(0));
        this.partial = null;
        events.push({ kind: 'line', line });
        if (stopAfter?.(line)) return i + 1;
        continue;
      }
      if (this.discarding > 0) {
        this.discarding++;
        if (this.discarding === this.maxLength + 1) events.push({ kind: 'flood' });
        continue;
      }
      // +1 leaves room for the CR of a CRLF ending that is still to come.
      if ((this.partial?.length ?? 0) + bytes.length >= this.maxLength + 1) {
        this.partial = null;
        bytes.length = 0;
        this.discarding = 1;
        events.push({ kind: 'too-long' });
        continue;
      }
      bytes.push(b);
    }
    flush();
    return null;
  }

  /**
   * Handles the byte after an IAC. Returns how many more bytes belong to the
   * Telnet sequence (0 when it is over).
   */
  private telnet(b: number, out: number[]): number {
    if (this.iacPending === 2) return 0; // option byte of WILL/WONT/DO/DONT
    if (b === IAC) {
      if (this.discarding === 0) out.push(IAC); // IAC IAC is a literal 0xff
      return 0;
    }
    if (b >= 251 && b <= 254) return 2;
    if (b >= 240) return 0; // IP, DM, AO, ... : dropped
    // An IAC followed by ordinary text: the DM of "IAC DM" went out of band
    // (inetutils ftp sends it as urgent data). Keep the text byte.
    if (this.discarding === 0) out.push(b);
    return 0;
  }
}

function indexOf(chunk: Uint8Array, byte: number, from: number): number {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).indexOf(byte, from);
}
