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

/** Parses netrc text. `macdef` bodies are skipped. */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const lines = text.split(/\r?\n/);
  const tokens: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const words = (lines[i] ?? '').replace(/^\s*#.*$/, '').match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    for (let w = 0; w < words.length; w++) {
      const word = words[w] ?? '';
      if (word === 'macdef') {
        // a macro runs until the next empty line
        while (i + 1 < lines.length && (lines[i + 1] ?? '').trim() !== '') i++;
        break;
      }
      tokens.push(word.startsWith('"') ? word.slice(1, -1).replace(/\\(.)/g, '$1') : word);
    }
  }
  let current: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine' || t === 'default') {
      current = { machine: t === 'machine' ? tokens[++i] : undefined, login: undefined, password: undefined };
      entries.push(current);
    } else if (current && (t === 'login' || t === 'password' || t === 'account')) {
      const value = tokens[++i];
      if (t === 'login') current.login = value;
      if (t === 'password') current.password = value;
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
