/**
 * Incremental parser of FTP replies (RFC 959 section 4.2). It is pure: feed it
 * text chunks as they arrive from the socket, in any split, and it returns the
 * complete replies found so far, keeping any partial line for the next chunk.
 */

/** One complete server reply. */
export interface FtpReply {
  /** Three-digit reply code. */
  code: number;
  /** Reply text: the message of each line without the code prefix, joined by `\n`. */
  message: string;
  /** The raw lines as received, without line terminators. */
  lines: string[];
}

/** Options for {@link ReplyParser}. */
export interface ReplyParserOptions {
  /** Longest accepted line in characters; longer lines are a protocol error. */
  maxLineLength?: number;
  /** Most lines accepted in one multi-line reply. */
  maxLines?: number;
}

const CODE_LINE = /^(\d{3})([ -]?)(.*)$/s;

/** A line that starts with a reply code: the code, what follows it (` `, `-` or nothing) and the text after that. */
interface CodeLine {
  code: string;
  separator: string;
  text: string;
}

/** Splits a line that starts with three digits; null for any other line. */
function splitCodeLine(line: string): CodeLine | null {
  const m = CODE_LINE.exec(line);
  return m ? { code: m[1] ?? '', separator: m[2] ?? '', text: m[3] ?? '' } : null;
}

/** A multi-line reply being read: its code, raw lines and texts so far. */
interface PendingReply {
  code: string;
  lines: string[];
  texts: string[];
}

/** Error thrown by {@link ReplyParser} for malformed or oversized input. */
export class ReplyParseError extends Error {
  override name = 'ReplyParseError';
}

/**
 * Stateful, incremental reply parser. Lines end in CRLF or a bare LF. A
 * multi-line reply starts with `ddd-` and ends with a line `ddd ` (same
 * code); lines in between are kept verbatim.
 */
export class ReplyParser {
  private buffer = '';
  private pending: PendingReply | undefined;
  private readonly maxLineLength: number;
  private readonly maxLines: number;

  constructor(options: ReplyParserOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? 8192;
    this.maxLines = options.maxLines ?? 100_000;
  }

  /** Feeds a chunk and returns every reply it completes (possibly none). */
  push(chunk: string): FtpReply[] {
    this.buffer += chunk;
    const replies: FtpReply[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = nl + 1;
      if (line.length > this.maxLineLength) throw new ReplyParseError('reply line too long');
      const reply = this.line(line);
      if (reply) replies.push(reply);
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLineLength) throw new ReplyParseError('reply line too long');
    return replies;
  }

  /** True when a partial reply or line is buffered. */
  get hasPartial(): boolean {
    return this.buffer.length > 0 || this.pending !== undefined;
  }

  private line(line: string): FtpReply | undefined {
    const parsed = splitCodeLine(line);
    return this.pending ? this.continueReply(this.pending, line, parsed) : this.startReply(line, parsed);
  }

  /** The first line of a reply: `ddd text` is a whole reply, `ddd-text` opens a multi-line one. */
  private startReply(line: string, parsed: CodeLine | null): FtpReply | undefined {
    if (!parsed || (parsed.separator === '' && parsed.text !== '')) {
      throw new ReplyParseError(`malformed reply line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (parsed.separator === '-') {
      this.pending = { code: parsed.code, lines: [line], texts: [parsed.text] };
      return undefined;
    }
    return { code: Number(parsed.code), message: parsed.text, lines: [line] };
  }

  /** A line inside a multi-line reply: the same code not followed by `-` ends it, any other line is kept. */
  private continueReply(pending: PendingReply, line: string, parsed: CodeLine | null): FtpReply | undefined {
    pending.lines.push(line);
    if (pending.lines.length > this.maxLines) throw new ReplyParseError('multi-line reply too long');
    const sameCode = parsed !== null && parsed.code === pending.code;
    if (sameCode && parsed.separator !== '-') {
      pending.texts.push(parsed.text);
      this.pending = undefined;
      return { code: Number(pending.code), message: pending.texts.join('\n'), lines: pending.lines };
    }
    // Intermediate lines: strip a leading "ddd-" if the server repeats it.
    pending.texts.push(sameCode ? parsed.text : line.replace(/^ /, ''));
    return undefined;
  }
}

/** Reply class helpers (the first digit of the code). */
export const replyKind = {
  preliminary: (code: number): boolean => code >= 100 && code < 200,
  completion: (code: number): boolean => code >= 200 && code < 300,
  intermediate: (code: number): boolean => code >= 300 && code < 400,
  negative: (code: number): boolean => code >= 400,
};
