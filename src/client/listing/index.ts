/**
 * Listing parsers (pure functions): MLSD facts, Unix `ls -l` and DOS/IIS LIST
 * formats, with automatic detection per line.
 */
import { parseDosLine } from './dos.js';
import { parseMlsdLine } from './mlsd.js';
import { parseUnixLine } from './unix.js';
import type { FileInfo } from './types.js';

export { parseDosLine } from './dos.js';
export { parseMlsdLine, parseMlsdTime } from './mlsd.js';
export { parseUnixLine } from './unix.js';
export type { FileInfo, FileType } from './types.js';

/** Splits listing text into lines, dropping empty ones and line terminators. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** Parses one LIST line in whichever of the Unix or DOS formats it is. */
export function parseListLine(line: string, now: Date = new Date()): FileInfo | undefined {
  return parseUnixLine(line, now) ?? parseDosLine(line);
}

/** Parses the text of a LIST reply; lines in no known format are skipped. */
export function parseList(text: string, now: Date = new Date()): FileInfo[] {
  const out: FileInfo[] = [];
  for (const line of splitLines(text)) {
    const info = parseListLine(line, now);
    if (info) out.push(info);
  }
  return out;
}

/** Parses the text of an MLSD reply. */
export function parseMlsd(text: string): FileInfo[] {
  const out: FileInfo[] = [];
  for (const line of splitLines(text)) {
    const info = parseMlsdLine(line);
    if (info) out.push(info);
  }
  return out;
}
