/** Parser of machine listings (RFC 3659 MLSD/MLST lines). */
import { parseTimeVal } from '../../protocol/listing/facts.js';
import { parseMlsxLine } from '../../protocol/listing/mlsx.js';
import { permissionString } from '../../protocol/listing/unix.js';
import { makeInfo, type FileInfo, type FileType } from './types.js';

/**
 * Parses an RFC 3659 time value `YYYYMMDDHHMMSS[.sss]` (UTC), surrounding
 * whitespace ignored; undefined when malformed. The codec is the protocol
 * core's `parseTimeVal`.
 */
export function parseMlsdTime(value: string): Date | undefined {
  return parseTimeVal(value.trim()) ?? undefined;
}

function typeOf(fact: string | undefined): FileType | 'skip' {
  switch (fact?.toLowerCase()) {
    case 'file':
      return 'file';
    case 'dir':
      return 'directory';
    case 'cdir':
    case 'pdir':
      return 'skip';
    case 'os.unix=symlink':
    case 'os.unix=slink':
      return 'symlink';
    default:
      return fact?.toLowerCase().startsWith('os.unix=slink') ? 'symlink' : 'unknown';
  }
}

/** Turns an octal `unix.mode` fact (e.g. `0644`) into `rw-r--r--`. */
function modeString(mode: string | undefined): string | undefined {
  if (!mode || !/^[0-7]{3,4}$/.test(mode)) return undefined;
  return permissionString(parseInt(mode, 8));
}

/**
 * Parses one MLSD line (`fact=value;fact=value; name`). Returns undefined for
 * the `cdir`/`pdir` entries and for lines that are not facts.
 */
export function parseMlsdLine(line: string): FileInfo | undefined {
  const parsed = parseMlsxLine(line);
  if (!parsed) return undefined;
  const { facts, name } = parsed;
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
