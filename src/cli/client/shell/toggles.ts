/**
 * The shell's toggles as the classic inetutils ftp(1) has them: where each
 * one starts (prompting and globbing on, verbose only on a terminal, the
 * rest off, whatever standard input is), the flags that change that, and
 * what each command prints.
 *
 * A bare toggle flips the setting, as in the classic client; `on` and `off`
 * set it explicitly; any other argument flips it, as inetutils does.
 */
import type { Shell } from './shell.js';

/** The shell's own flags (besides the options every client command has). */
export interface ShellFlags {
  /** False with `-n` (`--no-auto-login`): never log in at open. */
  autoLogin?: boolean;
  /** False with `-i` (`--no-prompt`): no questions in mget, mput and mdelete. */
  prompt?: boolean;
  /** False with `-g` (`--no-glob`): mget, mput and mdelete take names literally. */
  glob?: boolean;
  /** `-v`: verbose even when standard input is not a terminal (`--verbose` too). */
  v?: boolean;
  /** `-d` (`--debug`): show the commands sent. */
  debug?: boolean;
  /** `-p` (`--passive`): passive mode, already the default. */
  passive?: boolean;
}

/** The settings the toggles change. */
export interface Toggles {
  prompting: boolean;
  glob: boolean;
  verbose: boolean;
  bell: boolean;
  runique: boolean;
  /** Debugging level; 0 is off. */
  debug: number;
  /** Bytes per hash mark; 0 is off. */
  hash: number;
}

/** Bytes per hash mark unless `hash SIZE` says otherwise. */
export const HASH_BYTES = 1024;

/**
 * Where the toggles start. As in inetutils ftp, only `verbose` depends on
 * whether standard input is a terminal: a script gets the same questions
 * from mget, mput and mdelete as a person does, unless `-i` or `prompt`.
 */
export function initialToggles(flags: ShellFlags & { verbose?: boolean }, terminal: boolean): Toggles {
  return {
    prompting: flags.prompt !== false,
    glob: flags.glob !== false,
    verbose: terminal || flags.v === true || flags.verbose === true,
    bell: false,
    runique: false,
    debug: flags.debug === true ? 1 : 0,
    hash: 0,
  };
}

/** The on/off toggles, with the words the classic client prints for them. */
const LABELS = {
  prompting: 'Interactive mode',
  glob: 'Globbing',
  verbose: 'Verbose mode',
  bell: 'Bell mode',
  runique: 'Receive unique',
  passive: 'Passive mode',
} as const;

/** A setting that is only on or off. */
export type OnOff = keyof typeof LABELS;

/** The next value of an on/off setting: `on` and `off` set it, no argument (or any other) flips it. */
function flip(current: boolean, arg: string | undefined): boolean {
  if (arg === 'on') return true;
  if (arg === 'off') return false;
  return !current;
}

/** `prompt`, `glob`, `verbose`, `bell`, `runique`, `passive` [on|off]. */
export function toggle(shell: Shell, key: OnOff, arg?: string): void {
  const value = flip(shell[key], arg);
  shell[key] = value;
  if (key === 'passive' && shell.ftp) shell.ftp.passive = value;
  shell.print(`${LABELS[key]} ${value ? 'on' : 'off'}.`);
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * `hash [on|off|SIZE]`: a bare `hash` flips it (back to 1024 bytes a mark);
 * SIZE (with k, m or g) turns it on at that size, 0 at the default size; an
 * argument that is not a size leaves it as it is, as inetutils does.
 */
export function setHash(shell: Shell, arg?: string): void {
  if (arg === undefined) shell.hash = shell.hash > 0 ? 0 : HASH_BYTES;
  else if (arg === 'on') shell.hash ||= HASH_BYTES;
  else if (arg === 'off') shell.hash = 0;
  else {
    const m = /^(\d+)([kmg]?)/i.exec(arg);
    if (m) shell.hash = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1) || HASH_BYTES;
  }
  shell.print(shell.hash > 0 ? `Hash mark printing on (${shell.hash} bytes/hash mark).` : 'Hash mark printing off.');
}

/** `debug [on|off|LEVEL]`: a bare `debug` flips it between 0 and 1. */
export function setDebug(shell: Shell, arg?: string): void {
  if (arg === undefined) shell.debug = shell.debug > 0 ? 0 : 1;
  else if (arg === 'on') shell.debug ||= 1;
  else if (arg === 'off') shell.debug = 0;
  else shell.debug = Math.max(0, Number(/^\d+/.exec(arg)?.[0] ?? 0));
  shell.print(shell.debug > 0 ? `Debugging on (debug=${shell.debug}).` : 'Debugging off (debug=0).');
}

/** The toggles as `status` shows them. */
export function statusLines(shell: Shell): string[] {
  const on = (b: boolean): string => (b ? 'on' : 'off');
  return [
    `Verbose: ${on(shell.verbose)}; Bell: ${on(shell.bell)}; Prompting: ${on(shell.prompting)}; Globbing: ${on(shell.glob)}`,
    `Receive unique: ${on(shell.runique)}; Hash mark printing: ${shell.hash > 0 ? `on (${shell.hash} bytes/hash mark)` : 'off'}`,
    `Passive mode: ${on(shell.passive)}; Debugging: ${shell.debug > 0 ? `on (debug=${shell.debug})` : 'off'}`,
  ];
}
