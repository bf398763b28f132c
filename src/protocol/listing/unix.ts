/**
 * The `ls -l` listing format that LIST returns. There is no standard for
 * it; this is the form that curl, lftp, wget, FileZilla and basic-ftp all
 * parse: type and permission bits, link count, owner, group, size, date,
 * name.
 */
import type { EntryFacts } from './facts.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

/**
 * The nine `rwxrwxrwx` characters of `ls -l` for the low nine permission
 * bits (owner, group, others); higher bits are ignored.
 */
export function permissionString(mode: number): string {
  const rwx = (bits: number) => `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
  return rwx((mode >> 6) & 7) + rwx((mode >> 3) & 7) + rwx(mode & 7);
}

function modeString(type: EntryFacts['type'], mode: number): string {
  const t = type === 'dir' ? 'd' : type === 'link' ? 'l' : type === 'other' ? 'p' : '-';
  return t + permissionString(mode);
}

/**
 * Month 0 to 11 of a three-letter abbreviation of the date column
 * (`Jan`..`Dec`, any case), the inverse of what {@link formatListDate}
 * prints; -1 for anything else.
 */
export function parseListMonth(abbr: string): number {
  return MONTH_INDEX.get(abbr.toLowerCase()) ?? -1;
}

/**
 * The date column: `Mon DD HH:MM` for the last six months, else
 * `Mon DD  YYYY`, in UTC as most servers do.
 */
export function formatListDate(mtime: Date, now: Date): string {
  const month = MONTHS[mtime.getUTCMonth()];
  const day = String(mtime.getUTCDate()).padStart(2, ' ');
  const age = now.getTime() - mtime.getTime();
  if (age >= 0 && age < SIX_MONTHS_MS) {
    const hh = String(mtime.getUTCHours()).padStart(2, '0');
    const mm = String(mtime.getUTCMinutes()).padStart(2, '0');
    return `${month} ${day} ${hh}:${mm}`;
  }
  return `${month} ${day}  ${mtime.getUTCFullYear()}`;
}

/**
 * Formats `ls -l` lines for one listing. Files in a directory often share
 * modification times and modes, so the last date and mode strings are
 * remembered.
 */
export class UnixLineFormatter {
  private lastTime = NaN;
  private lastDate = '';
  private lastMode = -1;
  private lastModeText = '';

  constructor(private readonly now: Date = new Date()) {}

  /** One line, without the line ending. Owner and group are hidden. */
  format(entry: EntryFacts): string {
    const t = entry.mtime.getTime();
    if (t !== this.lastTime) {
      this.lastTime = t;
      this.lastDate = formatListDate(entry.mtime, this.now);
    }
    const modeKey = entry.mode | (entry.type === 'dir' ? 0x10000 : entry.type === 'link' ? 0x20000 : entry.type === 'other' ? 0x40000 : 0);
    if (modeKey !== this.lastMode) {
      this.lastMode = modeKey;
      this.lastModeText = `${modeString(entry.type, entry.mode)} ${entry.type === 'dir' ? '  2' : '  1'} ftp      ftp      `;
    }
    return `${this.lastModeText}${String(entry.size).padStart(12, ' ')} ${this.lastDate} ${entry.name}`;
  }
}

/** One `ls -l` line, without the line ending. Owner and group are hidden. */
export function formatUnixLine(entry: EntryFacts, now: Date): string {
  return new UnixLineFormatter(now).format(entry);
}
