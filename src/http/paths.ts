/**
 * The web view's request targets, decoded strictly (pure string work).
 * A target becomes a virtual path of the anonymous root or a 4xx: bad
 * percent-encoding, bytes that are not UTF-8, encoded slashes or
 * backslashes, control characters (NUL included) and dot segments are
 * refused rather than interpreted, so no spelling climbs out of the root
 * or around the drop box rule. Empty segments (`//`) collapse, as FTP's
 * path resolution does.
 */
import { baseName, isWithin, parentOf } from '../vfs/path.js';

/** Longest request target accepted (bytes of the raw target). */
export const MAX_TARGET = 8192;

/** Longest name one segment may decode to, in UTF-8 bytes (the usual file system limit). */
export const MAX_SEGMENT = 255;

/** A decoded request target, or why it was refused. */
export type DecodedTarget =
  | {
      ok: true;
      /** The virtual path, absolute and normalised (`/`, `/pub/data.bin`). */
      path: string;
      /** True when the raw path ended with `/` (a directory URL). */
      trailingSlash: boolean;
      /** `json` for `?format=json`, else `html`. */
      format: 'html' | 'json';
    }
  | { ok: false; status: 400 | 414; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(status: 400 | 414, message: string): DecodedTarget {
  return { ok: false, status, message };
}

/** Printable ASCII without `%`: a segment that decodes to itself. */
const PLAIN = /^[\x20-\x24\x26-\x7e]*$/;

/** Percent-decodes one raw segment to text; null when the encoding or the UTF-8 is bad. */
export function decodeSegment(raw: string): string | null {
  if (PLAIN.test(raw)) return raw; // nearly every name: no escapes, every byte one ASCII character
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c > 0xff) {
      return null; // not a byte: the target was not read as bytes
    } else {
      bytes.push(c);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** Why a decoded segment is refused, or null when it is a plain name. */
function segmentProblem(name: string): string | null {
  if (name.includes('/')) return 'encoded slashes are not allowed in paths';
  if (name.includes('\\')) return 'backslashes are not allowed in paths';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'control characters are not allowed in paths';
  if (name === '.' || name === '..') return 'dot segments are not allowed in paths';
  return null;
}

/** The `format` query parameter: `json`, `html` (the default), or null when unknown. */
function formatOf(query: string): 'html' | 'json' | null {
  const value = new URLSearchParams(query).get('format');
  if (value === null || value === 'html') return 'html';
  return value === 'json' ? 'json' : null;
}

/**
 * Decodes a request target (`req.url`: origin or absolute form, bytes read
 * as latin1) into a virtual path. Queries other than `format` are ignored.
 */
export function decodeTarget(raw: string): DecodedTarget {
  if (raw.length > MAX_TARGET) return refuse(414, 'the request target is too long');
  // The absolute form (RFC 9112 3.2.2), which a server must accept too: its path and query.
  const absolute = /^https?:\/\/[^/?#]*(.*)$/i.exec(raw);
  const target = absolute ? (absolute[1] as string).replace(/^(?=\?|$)/, '/') : raw;
  if (!target.startsWith('/')) return refuse(400, 'the request target must be a path starting with /');
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const format = formatOf(q < 0 ? '' : target.slice(q + 1));
  if (format === null) return refuse(400, 'unknown format: use ?format=json or no format');
  if (rawPath.includes('\\')) return refuse(400, 'backslashes are not allowed in paths');
  if (rawPath.includes('#')) return refuse(400, 'a request path cannot contain #');
  const names: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    const name = decodeSegment(raw);
    if (name === null) return refuse(400, 'bad percent-encoding or a path that is not UTF-8');
    const problem = segmentProblem(name);
    if (problem) return refuse(400, problem);
    if (Buffer.byteLength(name) > MAX_SEGMENT) return refuse(414, 'a name in the path is too long');
    names.push(name);
  }
  return { ok: true, path: '/' + names.join('/'), trailingSlash: rawPath.endsWith('/'), format };
}

/**
 * A name as a case-insensitive, Windows-tolerant file system could see it:
 * Unicode NFC, lower case, trailing dots and spaces dropped.
 */
function fold(path: string): string {
  return path
    .split('/')
    .map((s) =>
      s
        .normalize('NFC')
        .toLowerCase()
        .replace(/[. ]+$/, ''),
    )
    .join('/');
}

/**
 * True when `path` is the drop box or inside it, under any spelling a
 * storage backend might take for the same directory (case, Unicode form,
 * trailing dots): stricter than the exact comparison, so that no backend's
 * leniency opens the drop box.
 */
export function inDropBox(path: string, dropBox: string | undefined): boolean {
  if (dropBox === undefined || dropBox === '/') return false;
  return isWithin(path, dropBox) || isWithin(fold(path), fold(dropBox));
}

/**
 * Which names in `dir` are the drop box, by the same rule as `inDropBox`,
 * decided once per directory: only the drop box's parent holds it (and
 * inside the drop box, everything is).
 */
export function dropBoxEntries(dir: string, dropBox: string | undefined): (name: string) => boolean {
  if (dropBox === undefined || dropBox === '/') return () => false;
  if (inDropBox(dir, dropBox)) return () => true;
  if (fold(dir) !== fold(parentOf(dropBox))) return () => false;
  const folded = fold(baseName(dropBox));
  return (name) => fold(name) === folded;
}

/** Percent-encodes a name for a relative link (every reserved character, so `a:b` is not a scheme). */
export function encodeName(name: string): string {
  if (/^[A-Za-z0-9._~-]*$/.test(name)) return name;
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Percent-encodes a virtual path for a Location header. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeName(s))
    .join('/');
}
