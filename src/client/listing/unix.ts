/** Parser of Unix `ls -l` style LIST lines, as vsftpd, ProFTPD and pyftpdlib send them. */
import { parseListMonth } from '../../protocol/listing/unix.js';
import { makeInfo, type FileInfo, type FileType } from './types.js';

// mode, links, owner/group (anything), size, month, day, time-or-year, name
const UNIX = /^([-bcdlpsDw?])([-rwxsStTlL]{9})[.+@]?\s+(?:(\d+)\s+)?(.*?)\s*(\d+)\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}:\d{2}|\d{4})\s(.*)$/;
// Variant with ISO dates: ... size 2024-01-31 12:34 name
const UNIX_ISO = /^([-bcdlpsDw?])([-rwxsStTlL]{9})[.+@]?\s+(?:(\d+)\s+)?(.*?)\s*(\d+)\s+(\d{4})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2})\s(.*)$/;

function typeOf(c: string): FileType {
  if (c === '-') return 'file';
  if (c === 'd') return 'directory';
  if (c === 'l') return 'symlink';
  return 'unknown';
}

/**
 * Infers the date of an `ls` timestamp. Without a year, `ls` means the most
 * recent such date not more than a day in the future of `now`.
 */
function lsDate(month: number, day: number, timeOrYear: string, now: Date): Date {
  if (/^\d{4}$/.test(timeOrYear)) return new Date(Date.UTC(Number(timeOrYear), month, day));
  const [h, m] = timeOrYear.split(':').map(Number) as [number, number];
  let year = now.getUTCFullYear();
  let date = new Date(Date.UTC(year, month, day, h, m));
  if (date.getTime() > now.getTime() + 86_400_000) {
    year -= 1;
    date = new Date(Date.UTC(year, month, day, h, m));
  }
  return date;
}

function splitLink(type: FileType, rest: string): { name: string; target: string | undefined } {
  if (type !== 'symlink') return { name: rest, target: undefined };
  const i = rest.indexOf(' -> ');
  return i < 0 ? { name: rest, target: undefined } : { name: rest.slice(0, i), target: rest.slice(i + 4) };
}

/**
 * Parses one Unix-style LIST line. Returns undefined for `total N` lines,
 * `.`/`..` and anything that does not look like an entry. Times are taken as
 * UTC; `now` decides the year of recent entries.
 */
export function parseUnixLine(line: string, now: Date = new Date()): FileInfo | undefined {
  let m = UNIX.exec(line);
  let info: FileInfo | undefined;
  if (m) {
    const month = parseListMonth(m[6] ?? '');
    if (month < 0) return undefined;
    const type = typeOf(m[1] ?? '');
    const { name, target } = splitLink(type, m[9] ?? '');
    info = makeInfo({
      name,
      target,
      type,
      raw: line,
      size: Number(m[5]),
      permissions: m[2],
      modifiedAt: lsDate(month, Number(m[7]), m[8] ?? '', now),
    });
  } else if ((m = UNIX_ISO.exec(line))) {
    const type = typeOf(m[1] ?? '');
    const { name, target } = splitLink(type, m[11] ?? '');
    const [y, mo, d, h, mi] = m.slice(6, 11).map(Number) as [number, number, number, number, number];
    info = makeInfo({
      name,
      target,
      type,
      raw: line,
      size: Number(m[5]),
      permissions: m[2],
      modifiedAt: new Date(Date.UTC(y, mo - 1, d, h, mi)),
    });
  }
  if (!info || info.name === '' || info.name === '.' || info.name === '..') return undefined;
  return info;
}
