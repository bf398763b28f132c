/**
 * Machine listings (RFC 3659 section 7): MLSD lines and the MLST reply
 * body. Facts are `name=value;` pairs, then one space, then the name.
 */
import { formatTimeVal, type EntryFacts } from './facts.js';

/** The facts this server can report, in the order FEAT lists them. */
export const MLST_FACTS = ['type', 'size', 'modify', 'perm', 'unique'] as const;

/** One fact name. */
export type MlstFact = (typeof MLST_FACTS)[number];

/** The FEAT line: every supported fact, the enabled ones starred. */
export function mlstFeature(enabled: ReadonlySet<MlstFact>): string {
  return `MLST ${MLST_FACTS.map((f) => `${f}${enabled.has(f) ? '*' : ''};`).join('')}`;
}

/**
 * Parses the argument of `OPTS MLST a;b;`: the supported facts it names
 * (unknown ones are ignored, as RFC 3659 says).
 */
export function parseMlstOpts(arg: string): Set<MlstFact> {
  const wanted = arg.split(';').map((s) => s.trim().toLowerCase());
  return new Set(MLST_FACTS.filter((f) => wanted.includes(f)));
}

/** Kind of entry for the `type` fact: the listed dir itself, its parent, or an entry. */
export type MlsxRole = 'entry' | 'cdir' | 'pdir';

/** Remembers the last `modify` value: entries of a directory often share it. */
export class TimeValCache {
  private last = NaN;
  private text = '';

  format(date: Date): string {
    const t = date.getTime();
    if (t !== this.last) {
      this.last = t;
      this.text = formatTimeVal(date);
    }
    return this.text;
  }
}

/** The value of the `type` fact: `cdir` or `pdir` for the listed directory and its parent, else the kind of entry. */
function typeFact(type: EntryFacts['type'], role: MlsxRole): string {
  if (role !== 'entry') return role;
  return type === 'dir' ? 'dir' : type === 'file' ? 'file' : 'OS.unix=other';
}

/** Options of {@link formatMlsxLine}. */
export interface MlsxLineOptions {
  /** The name to show (default `entry.name`): `.` for the listed directory, the whole path for MLST. */
  name?: string;
  /** What the entry is to the listing, for the `type` fact (default `entry`). */
  role?: MlsxRole;
  /** A cache for the `modify` values of one listing. */
  times?: TimeValCache;
}

/**
 * The facts of one entry, then a space and the name. `perm` is computed by
 * the caller from the session's permissions (RFC 3659 section 7.5.5).
 */
export function formatMlsxLine(entry: EntryFacts, perm: string, facts: ReadonlySet<MlstFact>, options: MlsxLineOptions = {}): string {
  const { name: displayName = entry.name, role = 'entry', times } = options;
  let out = '';
  if (facts.has('type')) out += `type=${typeFact(entry.type, role)};`;
  if (facts.has('size') && entry.type !== 'dir') out += `size=${entry.size};`;
  if (facts.has('modify')) out += `modify=${times ? times.format(entry.mtime) : formatTimeVal(entry.mtime)};`;
  if (facts.has('perm')) out += `perm=${perm};`;
  if (facts.has('unique') && entry.unique) out += `unique=${entry.unique};`;
  return `${out} ${displayName}`;
}

/** One parsed MLSx line: its facts and the entry name. */
export interface MlsxLine {
  /** Fact values by fact name; names are lower-cased (they are case-insensitive), values kept as sent. */
  facts: Map<string, string>;
  /** Everything after the first space, kept byte for byte (names may hold spaces, `;` and `=`). */
  name: string;
}

/**
 * Parses one MLSD line, the inverse of {@link formatMlsxLine}:
 * `fact=value;fact=value; name`. The value of a fact runs to the next `;`
 * and may itself hold `=` (e.g. `type=OS.unix=symlink`); empty facts
 * (`;;`) are skipped. Null for a line with no space, no name, no fact, or
 * a part that is not `name=value` (`=x;`, `x;`).
 */
export function parseMlsxLine(line: string): MlsxLine | null {
  const sp = line.indexOf(' ');
  if (sp < 0) return null;
  const factText = line.slice(0, sp);
  const name = line.slice(sp + 1);
  if (!name || !factText.includes('=')) return null;
  const facts = new Map<string, string>();
  for (const part of factText.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    facts.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  return { facts, name };
}
