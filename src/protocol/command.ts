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

/**
 * Masks the argument of commands that carry secrets, for logs and the
 * client's verbose output.
 */
export function redactCommand(verb: string, arg: string): string {
  if (verb === 'PASS' || verb === 'ACCT') return `${verb} ****`;
  return arg === '' ? verb : `${verb} ${arg}`;
}
