/** Parser of machine listings (RFC 3659 MLSD/MLST lines). */
import { makeInfo, type FileInfo, type FileType } from './types.js';

/** Parses an RFC 3659 time value `YYYYMMDDHHMMSS[.sss]` (UTC). */
export function parseMlsdTime(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function typeOf(fact: string | undefined): FileType | 'skip' {
  switch (fact?.toLowerCase()) {
    case 'file': return 'file';
    case 'dir': return 'directory';
    case 'cdir':
    case 'pdir': return 'skip';
    case 'os.unix=symlink':
    case 'os.unix=slink': return 'symlink';
    default:
      return fact?.toLowerCase().startsWith('os.unix=slink') ? 'symlink' : 'unknown';
  }
}

/** Turns an octal `unix.mode` fact (e.g. `0644`) into `rw-r--r--`. */
function modeString(mode: string | undefined): string | undefined {
  if (!mode || !/^[0-7]{3,4}$/.test(mode)) return undefined;
  const bits = parseInt(mode, 8);
  const flags = 'rwxrwxrwx';
  let out = '';
  for (let i = 0; i < 9; i++) out += bits & (1 << (8 - i)) ? flags[i] : '-';
  return out;
}

/**
 * Parses one MLSD line (`fact=value;fact=value; name`). Returns undefined for
 * the `cdir`/`pdir` entries and for lines that are not facts.
 */
export function parseMlsdLine(line: string): FileInfo | undefined {
  const sp = line.indexOf(' ');
  if (sp < 0) return undefined;
  const factText = line.slice(0, sp);
  const name = line.slice(sp + 1);
  if (!name || !factText.includes('=')) return undefined;
  const facts = new Map<string, string>();
  for (const part of factText.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    facts.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  const type = typeOf(facts.get('type'));
  if (type === 'skip' || name === '.' || name === '..') return undefined;
  const sizeText = facts.get('size') ?? facts.get('sizd');
  const size = sizeText !== undefined && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
  const modify = facts.get('modify');
  return makeInfo({
    name,
    type,
    size,
    modifiedAt: modify ? parseMlsdTime(modify) : undefined,
    permissions: modeString(facts.get('unix.mode')) ?? facts.get('perm'),
    raw: line,
  });
}
