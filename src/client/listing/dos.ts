/** Parser of DOS/IIS style LIST lines (`MM-DD-YY  HH:MMAM  <DIR>|size  name`). */
import { makeInfo, type FileInfo } from './types.js';

const DOS = /^(\d{2})-(\d{2})-(\d{2}|\d{4})\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?\s+(<DIR>|\d+)\s+(.+)$/;

/** Parses one DOS/IIS LIST line; undefined when the line is not in that format. */
export function parseDosLine(line: string): FileInfo | undefined {
  const m = DOS.exec(line);
  if (!m) return undefined;
  const [mo, d, y, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const year = (m[3] ?? '').length === 2 ? (y < 70 ? 2000 + y : 1900 + y) : y;
  let hour = h;
  const ampm = m[6]?.toUpperCase();
  if (ampm === 'PM' && hour < 12) hour += 12;
  if (ampm === 'AM' && hour === 12) hour = 0;
  const isDir = m[7] === '<DIR>';
  const name = m[8] ?? '';
  if (name === '.' || name === '..') return undefined;
  return makeInfo({
    name,
    type: isDir ? 'directory' : 'file',
    size: isDir ? undefined : Number(m[7]),
    modifiedAt: new Date(Date.UTC(year, mo - 1, d, hour, mi)),
    raw: line,
  });
}
