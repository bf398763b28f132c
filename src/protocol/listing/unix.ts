/**
 * The `ls -l` listing format that LIST returns. There is no standard for
 * it; this is the form that curl, lftp, wget, FileZilla and basic-ftp all
 * parse: type and permission bits, link count, owner, group, size, date,
 * name.
 */
import type { EntryFacts } from './facts.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

function modeString(type: EntryFacts['type'], mode: number): string {
  const t = type === 'dir' ? 'd' : type === 'link' ? 'l' : type === 'other' ? 'p' : '-';
  const rwx = (bits: number) => `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
  return t + rwx((mode >> 6) & 7) + rwx((mode >> 3) & 7) + rwx(mode & 7);
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

/** One `ls -l` line, without the line ending. Owner and group are hidden. */
export function formatUnixLine(entry: EntryFacts, now: Date): string {
  const links = entry.type === 'dir' ? 2 : 1;
  const size = String(entry.size).padStart(12, ' ');
  return `${modeString(entry.type, entry.mode)} ${String(links).padStart(3, ' ')} ftp      ftp      ${size} ${formatListDate(entry.mtime, now)} ${entry.name}`;
}
