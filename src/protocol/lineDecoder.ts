/**
 * Incremental decoder for the FTP control connection (RFC 959 section 4.1,
 * Telnet NVT lines). Takes TCP chunks, keeps the remainder, strips Telnet
 * IAC sequences and enforces a maximum line length.
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

/** Stateful line splitter; one per control connection. */
export class LineDecoder {
  private buf: Buffer;
  private len = 0;
  private discarding = 0;
  private iacPending = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  /** @param maxLength longest accepted line in bytes, without its line ending. */
  constructor(private readonly maxLength = 4096) {
    this.buf = Buffer.allocUnsafe(Math.min(256, maxLength + 2));
  }

  /**
   * Feeds one chunk; returns the events it completes, in order. When
   * `stopAfter` returns true for a line, decoding stops right after that
   * line and the unread bytes are returned in `rest` (the start of a TLS
   * handshake after AUTH TLS must not be read as text).
   */
  push(chunk: Uint8Array, stopAfter?: (line: string) => boolean): LineEvent[] & { rest?: Uint8Array } {
    const events: LineEvent[] & { rest?: Uint8Array } = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.iacPending > 0) {
        this.iacPending = this.telnet(b);
        continue;
      }
      if (b === IAC) {
        this.iacPending = 1;
        continue;
      }
      if (b === LF) {
        if (this.discarding > 0) this.discarding = 0;
        else {
          const line = this.take();
          events.push({ kind: 'line', line });
          if (stopAfter?.(line)) {
            this.len = 0;
            events.rest = chunk.subarray(i + 1);
            return events;
          }
        }
        this.len = 0;
        continue;
      }
      if (this.discarding > 0) {
        this.discarding++;
        if (this.discarding === this.maxLength + 1) events.push({ kind: 'flood' });
        continue;
      }
      if (this.len >= this.maxLength + 1) {
        // +1 leaves room for the CR of a CRLF ending that is still to come.
        this.len = 0;
        this.discarding = 1;
        events.push({ kind: 'too-long' });
        continue;
      }
      this.append(b);
    }
    return events;
  }

  /** Bytes held for an incomplete line (for memory accounting and tests). */
  get pending(): number {
    return this.len;
  }

  /**
   * Handles the byte after an IAC. Returns how many more bytes belong to the
   * Telnet sequence (0 when it is over).
   */
  private telnet(b: number): number {
    if (this.iacPending === 2) return 0; // option byte of WILL/WONT/DO/DONT
    if (b === IAC) {
      this.append(IAC); // IAC IAC is a literal 0xff
      return 0;
    }
    if (b >= 251 && b <= 254) return 2;
    if (b >= 240) return 0; // IP, DM, AO, ... : dropped
    // An IAC followed by ordinary text: the DM of "IAC DM" went out of band
    // (inetutils ftp sends it as urgent data). Keep the text byte.
    this.append(b);
    return 0;
  }

  private append(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.maxLength + 2));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  private take(): string {
    let end = this.len;
    if (end > 0 && this.buf[end - 1] === CR) end--;
    return this.utf8.decode(this.buf.subarray(0, end));
  }
}
