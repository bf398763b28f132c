/** Reading credentials from ~/.netrc (or $NETRC), as ftp(1) and curl do. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One `machine` (or `default`) entry. */
export interface NetrcEntry {
  /** Host name, or undefined for the `default` entry. */
  machine: string | undefined;
  login: string | undefined;
  password: string | undefined;
}

/** A word of a netrc line: a double-quoted string (backslash escapes anything) or a run of non-blanks. */
const WORD = /"(?:[^"\\]|\\.)*"|\S+/g;

/** Keywords that take a value inside an entry, and the field the value goes to (`account` is read and dropped). */
const ENTRY_KEYWORDS = new Map<string, 'login' | 'password' | undefined>([
  ['login', 'login'],
  ['password', 'password'],
  ['account', undefined],
]);

/** The words of one line, still quoted; a line whose first non-blank is `#` has none. */
function lineWords(line: string): string[] {
  return line.replace(/^\s*#.*$/, '').match(WORD) ?? [];
}

/** A word without its quotes and escapes; unquoted words are kept as they are. */
function unquote(word: string): string {
  return word.startsWith('"') ? word.slice(1, -1).replace(/\\(.)/g, '$1') : word;
}

/** Index of the last line of a `macdef` body declared on line `start`: the body runs until the next empty or blank line. */
function macroEnd(lines: string[], start: number): number {
  let i = start;
  while (i + 1 < lines.length && (lines[i + 1] ?? '').trim() !== '') i++;
  return i;
}

/** The tokens of netrc text, unquoted; comment lines, and from an unquoted `macdef` on, the rest of its line and its body, are left out. */
function tokenize(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const tokens: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const words = lineWords(lines[i] ?? '');
    const macdef = words.indexOf('macdef');
    tokens.push(...(macdef < 0 ? words : words.slice(0, macdef)).map(unquote));
    if (macdef >= 0) i = macroEnd(lines, i);
  }
  return tokens;
}

/**
 * Parses netrc text. `machine NAME` and `default` start an entry; inside one,
 * `login`, `password` and `account` take the next token as their value
 * (whatever it is); any other token is skipped. `macdef` bodies are skipped.
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    const current = entries.at(-1);
    if (t === 'machine' || t === 'default') {
      entries.push({ machine: t === 'machine' ? tokens[++i] : undefined, login: undefined, password: undefined });
    } else if (current && ENTRY_KEYWORDS.has(t)) {
      const field = ENTRY_KEYWORDS.get(t);
      const value = tokens[++i];
      if (field) current[field] = value;
    }
  }
  return entries;
}

/**
 * Finds the entry for `host` (and `login`, when given) in $NETRC or
 * ~/.netrc; falls back to the `default` entry. Missing file: undefined.
 */
export function lookupNetrc(host: string, login?: string, env: NodeJS.ProcessEnv = process.env): NetrcEntry | undefined {
  const file = env.NETRC ?? path.join(env.HOME ?? os.homedir(), '.netrc');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const entries = parseNetrc(text);
  const fits = (e: NetrcEntry): boolean => login === undefined || e.login === undefined || e.login === login;
  return entries.find((e) => e.machine === host && fits(e)) ?? entries.find((e) => e.machine === undefined && fits(e));
}
