/**
 * Incremental decoder for the FTP control connection (RFC 959 section 4.1,
 * Telnet NVT lines). Takes TCP chunks, keeps the remainder, takes the
 * Telnet commands out and enforces the line limits.
 *
 * Telnet (details in telnet.ts): IAC IAC is a literal 0xFF; IAC with
 * IP, DM, AYT, NOP..., option negotiation and IAC SB ... IAC SE are
 * dropped; and a lone 0xF2 after a Telnet command and before the line's
 * first text byte is dropped too. That one is the Data Mark of a BSD
 * client's abort (send "IAC IP IAC" as urgent data, then "DM ABOR"),
 * whose urgent IAC Linux takes out of the stream: the server reads
 * IAC IP, 0xF2, ABOR. vsftpd never meets it (it reads urgent data inline,
 * SO_OOBINLINE, which Node cannot set) and does not strip a stray 0xF2.
 * Nothing else is removed: UTF-8 never contains 0xFF, and its 0xF2 lead
 * bytes only come after a verb.
 *
 * One event per line, never two, so the session answers each line once:
 *
 * - a line of at most `maxLength` bytes (without CR LF) is a `line`;
 * - a longer line is dropped as it comes (never buffered) and reported by
 *   one `too-long` when its line feed arrives: the session answers 500 and
 *   reads on, in step with the client;
 * - a line that goes on for more than `floodLength` bytes without a line
 *   feed is reported by one `flood`, at once, and nothing more (not even
 *   at its end): the session answers 421 and closes.
 *
 * A line feed always ends a line, even one inside a Telnet sequence, and
 * a CR before it is dropped. Common chunks (whole lines, no Telnet) are
 * split without copying; only a line that spans chunks is buffered, so an
 * idle session holds no buffer.
 */
import { IAC, TelnetFilter } from './telnet.js';

const LF = 0x0a;
const CR = 0x0d;

/** One decoded event: a complete line, or a line that went over a limit. */
export type LineEvent =
  | { kind: 'line'; line: string }
  /** A line longer than `maxLength` ended; it was discarded. */
  | { kind: 'too-long' }
  /** The current line passed `floodLength` without a line end: a flood. */
  | { kind: 'flood' };

/** Events of one chunk, and the bytes left unread when decoding stopped early. */
export type LineEvents = LineEvent[] & { rest?: Uint8Array };

const TOO_LONG: LineEvent = Object.freeze({ kind: 'too-long' });
const FLOOD: LineEvent = Object.freeze({ kind: 'flood' });

/** Stateful line splitter; one per control connection. */
export class LineDecoder {
  /** Text bytes of the current, incomplete line (Telnet already removed); null while there are none. */
  private parts: Buffer[] | null = null;
  private textLength = 0;
  /** Bytes of the current line received so far, Telnet and CR included. */
  private received = 0;
  /** The current line is over `maxLength` and being skipped. */
  private discarding = false;
  /** The current line was reported as a flood. */
  private flooded = false;
  private readonly telnet = new TelnetFilter();
  private readonly floodLength: number;

  /**
   * @param maxLength longest accepted line in bytes, without its line ending.
   * @param floodLength longest line, accepted or not, that may go on without
   *   a line feed (a CR more is allowed); at least `maxLength`.
   */
  constructor(
    private readonly maxLength = 4096,
    floodLength = 64 * maxLength,
  ) {
    this.floodLength = Math.max(floodLength, maxLength);
  }

  /**
   * Feeds one chunk; returns the events it completes, in order. When
   * `stopAfter` returns true for a line, decoding stops right after that
   * line and the unread bytes are returned in `rest` (the start of a TLS
   * handshake after AUTH TLS must not be read as text).
   */
  push(chunk: Uint8Array, stopAfter?: (line: string) => boolean): LineEvents {
    const events: LineEvents = [];
    let start = 0;
    // The next IAC at or after `start`, found lazily: lines before it take the fast path.
    let iacAt = -2;
    while (start < chunk.length) {
      let end = -1;
      if (this.received === 0) {
        if (iacAt !== -1 && iacAt < start) iacAt = indexOf(chunk, IAC, start);
        end = this.wholeLine(chunk, start, iacAt);
      }
      const before = events.length;
      if (end !== -1) {
        // Fast path: a whole line inside this chunk, nothing to unescape.
        events.push(this.lineEvent(chunk.subarray(start, end)));
        start = end + 1;
      } else start = this.slow(chunk, start, events);
      const ev = events.length > before ? events[events.length - 1] : undefined;
      if (ev?.kind === 'line' && stopAfter?.(ev.line)) {
        events.rest = chunk.subarray(start);
        return events;
      }
    }
    return events;
  }

  /** Text bytes held for an incomplete line (for memory accounting and tests). */
  get pending(): number {
    return this.textLength;
  }

  /**
   * The offset of the line feed ending a line that starts at `start` and
   * can be read in place (short enough, no IAC), else -1.
   */
  private wholeLine(chunk: Uint8Array, start: number, iacAt: number): number {
    const lf = indexOf(chunk, LF, start);
    if (lf === -1 || lf - start > this.maxLength + 1) return -1;
    return iacAt === -1 || iacAt > lf ? lf : -1;
  }

  /**
   * Byte-by-byte path for one line from `from`: up to and including its
   * line feed (events pushed), or to the end of the chunk. Returns the
   * offset where it stopped.
   */
  private slow(chunk: Uint8Array, from: number, events: LineEvents): number {
    const text: number[] = [];
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === LF) {
        this.keep(text);
        const ev = this.endLine();
        if (ev) events.push(ev);
        return i + 1;
      }
      if (this.discarding) {
        // Skip the rest of a dropped line without looking at it.
        const lf = indexOf(chunk, LF, i);
        const stop = lf === -1 ? chunk.length : lf;
        this.count(stop - i, events);
        i = stop - 1;
        continue;
      }
      this.count(1, events);
      if (this.discarding) continue; // the byte made it a flood
      const t = this.telnet.byte(b);
      if (t === -1) continue;
      // +1 leaves room for the CR of a CR LF ending.
      if (this.textLength + text.length >= this.maxLength + 1) this.discard(text);
      else text.push(t);
    }
    this.keep(text);
    return chunk.length;
  }

  /** Counts received bytes of the current line; reports a flood once. */
  private count(n: number, events: LineEvents): void {
    this.received += n;
    if (this.flooded || this.received <= this.floodLength + 1) return;
    this.flooded = true;
    this.discard([]);
    events.push(FLOOD);
  }

  /** Drops the current line's text; the rest of it is skipped. */
  private discard(text: number[]): void {
    text.length = 0;
    this.parts = null;
    this.textLength = 0;
    this.discarding = true;
  }

  /** Moves the text bytes gathered by the slow path into the line buffer. */
  private keep(text: number[]): void {
    if (text.length === 0) return;
    (this.parts ??= []).push(Buffer.from(text));
    this.textLength += text.length;
    text.length = 0;
  }

  /** The line feed of the current line came: its event (none after a flood), and a fresh line. */
  private endLine(): LineEvent | null {
    const parts = this.parts ?? [];
    const ev = this.flooded ? null : this.discarding ? TOO_LONG : this.lineEvent(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    this.parts = null;
    this.textLength = 0;
    this.received = 0;
    this.discarding = false;
    this.flooded = false;
    this.telnet.reset();
    return ev;
  }

  /** The event for a line's bytes (without its LF): the text, or too long. */
  private lineEvent(bytes: Uint8Array): LineEvent {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    if (end > this.maxLength) return TOO_LONG;
    return { kind: 'line', line: Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8') };
  }
}

function indexOf(chunk: Uint8Array, byte: number, from: number): number {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).indexOf(byte, from);
}
