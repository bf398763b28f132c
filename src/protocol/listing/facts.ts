/** What a listing needs to know of one directory entry. */
export interface EntryFacts {
  /** The name as shown (no directory part). */
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
  mtime: Date;
  /** Unix permission bits (the low 12 bits of st_mode). */
  mode: number;
  /** A stable identity for MLSx `unique` (e.g. dev and inode). */
  unique?: string;
}

/** `YYYYMMDDHHMMSS` in UTC, as MDTM and MLSx `modify` use (RFC 3659). */
export function formatTimeVal(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return p(date.getUTCFullYear(), 4) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) + p(date.getUTCHours()) + p(date.getUTCMinutes()) + p(date.getUTCSeconds());
}

/** Parses a `YYYYMMDDHHMMSS[.sss]` time-val; null when malformed. */
export function parseTimeVal(text: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (!m) return null;
  // The six fields the regular expression has matched.
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return Number.isNaN(t) ? null : new Date(t);
}
