/**
 * Command line parsing (RFC 959 section 5.3): a verb of letters, then an
 * optional argument after one space. The argument is kept byte for byte
 * (no trimming, no quote stripping) since it is often a file name.
 */

/** A parsed command. `verb` is upper case. */
export interface ParsedCommand {
  verb: string;
  arg: string;
}

const VERB = /^[A-Za-z]{3,4}$/;

/** Parses one control line; returns null when it is not a command at all. */
export function parseCommand(line: string): ParsedCommand | null {
  const space = line.indexOf(' ');
  const verb = space === -1 ? line : line.slice(0, space);
  if (!VERB.test(verb)) return null;
  const arg = space === -1 ? '' : line.slice(space + 1);
  return { verb: verb.toUpperCase(), arg };
}

/** Verbs whose argument is a secret (any case). */
const SECRET_VERB = /^(?:PASS|ACCT)$/i;

/**
 * Masks the argument of commands that carry secrets (PASS, ACCT), for
 * logs, error messages and the client's verbose output. The verb is kept
 * as given; other commands come back as `verb arg` (or `verb` alone).
 */
export function redactCommand(verb: string, arg: string): string {
  if (SECRET_VERB.test(verb)) return `${verb} ****`;
  return arg === '' ? verb : `${verb} ${arg}`;
}

/**
 * {@link redactCommand} for a whole command line as a client sends it: the
 * verb ends at the first whitespace character of any kind (so a tab, CR or
 * LF cannot smuggle a password past the mask). Lines that carry no secret
 * come back unchanged, byte for byte.
 */
export function redactCommandLine(line: string): string {
  const sep = line.search(/\s/);
  if (sep === -1) return line;
  const verb = line.slice(0, sep);
  return SECRET_VERB.test(verb) ? redactCommand(verb, line.slice(sep + 1)) : line;
}
