/**
 * Byte ranges and conditional requests for the web view's files (RFC 9110
 * sections 13 and 14), as pure functions of the request headers and the
 * file's validators. One range is served as 206; several are answered
 * with the whole file (200), which RFC 9110 allows a server to do.
 */
import { createHash } from 'node:crypto';
import type { VfsStat } from '../vfs/types.js';

/** What a Range header asks of a file of a given size. */
export type RangeDecision =
  /** No usable Range (absent, another unit, malformed, or several ranges): the whole file. */
  | { kind: 'full' }
  /** One range, inclusive bounds within the file. */
  | { kind: 'partial'; start: number; end: number }
  /** A single range that lies past the end: 416. */
  | { kind: 'unsatisfiable' };

/** A decimal position; Infinity when too large to be exact, null when not digits. */
function position(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  return text.length > 15 ? Infinity : Number(text);
}

/** Parses a `Range` header against a file of `size` bytes. */
export function parseRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'full' };
  const specs = (m[1] as string).split(',').map((s) => s.trim());
  if (specs.length !== 1) return { kind: 'full' };
  const spec = /^(\d*)-(\d*)$/.exec(specs[0] as string);
  if (!spec) return { kind: 'full' };
  const [first, last] = [spec[1] as string, spec[2] as string];
  if (first === '') {
    // A suffix: the last n bytes.
    const n = position(last);
    if (n === null) return { kind: 'full' };
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = position(first);
  const end = last === '' ? Infinity : position(last);
  if (start === null || end === null || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/** A file's validators. */
export interface Validators {
  /** The strong entity tag, quoted. */
  etag: string;
  mtime: Date;
}

/**
 * A strong entity tag from the size, the modification time (milliseconds)
 * and, where the backend has one, the file's identity (device and inode):
 * a file replaced by another of the same size and time still changes tag.
 */
export function entityTag(st: VfsStat): string {
  const id = st.unique === undefined ? '' : '-' + identityHash(st.unique);
  return `"${st.size.toString(16)}-${Math.floor(st.mtime.getTime()).toString(16)}${id}"`;
}

/** Identity hashes made lately: the same few files are downloaded again and again, and a hash costs more than the rest of the tag. */
const identities = new Map<string, string>();
const MAX_IDENTITIES = 4096;

/** The first 8 characters of the identity's SHA-256 (base64url), from {@link identities} when made lately. */
export function identityHash(unique: string): string {
  let hash = identities.get(unique);
  if (hash === undefined) {
    hash = createHash('sha256').update(unique).digest('base64url').slice(0, 8);
    if (identities.size >= MAX_IDENTITIES) identities.clear();
    identities.set(unique, hash);
  }
  return hash;
}

/** The entity tags of an If-Match / If-None-Match list, or '*' for any. */
function tags(header: string): '*' | { weak: boolean; tag: string }[] {
  if (header.trim() === '*') return '*';
  const out: { weak: boolean; tag: string }[] = [];
  for (const m of header.matchAll(/(W\/)?("[^"]*")/g)) out.push({ weak: m[1] !== undefined, tag: m[2] as string });
  return out;
}

/** An HTTP date in whole seconds since the epoch, or null when it does not parse. */
export function parseHttpDate(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** The request headers the conditions read. */
export interface ConditionHeaders {
  'if-match'?: string;
  'if-none-match'?: string;
  'if-modified-since'?: string;
  'if-unmodified-since'?: string;
  'if-range'?: string;
}

/**
 * Evaluates the preconditions in RFC 9110's order (13.2.2) for a GET or
 * HEAD: `failed` is a 412, `not-modified` a 304, `proceed` serves.
 */
export function preconditions(h: ConditionHeaders, v: Validators): 'proceed' | 'not-modified' | 'failed' {
  if (h['if-match'] !== undefined) {
    const list = tags(h['if-match']);
    if (list !== '*' && !list.some((t) => !t.weak && t.tag === v.etag)) return 'failed';
  } else {
    const since = parseHttpDate(h['if-unmodified-since']);
    if (since !== null && seconds(v.mtime) > since) return 'failed';
  }
  if (h['if-none-match'] !== undefined) {
    const list = tags(h['if-none-match']);
    if (list === '*' || list.some((t) => t.tag === v.etag)) return 'not-modified';
  } else {
    const since = parseHttpDate(h['if-modified-since']);
    if (since !== null && seconds(v.mtime) <= since) return 'not-modified';
  }
  return 'proceed';
}

/**
 * True when a Range may be honoured: no If-Range, or one that still
 * matches (the strong tag, or exactly the Last-Modified date).
 */
export function ifRangeHolds(ifRange: string | undefined, v: Validators): boolean {
  if (ifRange === undefined) return true;
  const text = ifRange.trim();
  if (text.startsWith('W/')) return false;
  if (text.startsWith('"')) return text === v.etag;
  const date = parseHttpDate(text);
  return date !== null && date === seconds(v.mtime);
}
