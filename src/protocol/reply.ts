/**
 * Reply encoding (RFC 959 section 4.2). Single-line replies are
 * `NNN text`; multi-line ones are `NNN-first`, continuation lines indented
 * by one space (so none can be mistaken for the end), and `NNN last`.
 */

/** A reply to send: a code and one or more lines of text. */
export interface Reply {
  code: number;
  lines: string[];
}

/** Builds a reply from text; newlines in the text make it multi-line. */
export function reply(code: number, text: string | string[]): Reply {
  if (typeof text === 'string' && !text.includes('\n')) return { code, lines: [text] };
  const parts = Array.isArray(text) ? text : [text];
  const lines = parts.flatMap((p) => p.split(/\r?\n/));
  return { code, lines: lines.length > 0 ? lines : [''] };
}

/** Removes characters that would break the reply framing. */
function clean(text: string): string {
  return text.replace(/[\r\n\0]/g, ' ');
}

/** Encodes a reply to the exact text that goes on the wire. */
export function formatReply(r: Reply): string {
  const { code, lines } = r;
  if (lines.length <= 1) return `${code} ${clean(lines[0] ?? '')}\r\n`;
  let out = `${code}-${clean(lines[0] ?? '')}\r\n`;
  for (let i = 1; i < lines.length - 1; i++) out += ` ${clean(lines[i] ?? '')}\r\n`;
  out += `${code} ${clean(lines[lines.length - 1] ?? '')}\r\n`;
  return out;
}

/** Quotes a path for a 257 reply: embedded double quotes are doubled. */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}

/**
 * Parses the path out of a 257 reply text (PWD, MKD), the inverse of
 * {@link quotePath}: the first double-quoted run, with doubled quotes made
 * single again. Text around it is ignored; null when there is none.
 */
export function parsePathReply(text: string): string | null {
  const m = /"((?:[^"]|"")*)"/.exec(text);
  return m ? (m[1] ?? '').replace(/""/g, '"') : null;
}
