/**
 * Test-only entry that runs the client sub-commands on a bare commander
 * program. The CLI tests use bin/wharf.js once src/cli/main.ts exists and
 * fall back to this file until then.
 */
import { Command, CommanderError } from 'commander';
import { registerClientCommands } from '../../src/cli/client/index.js';

const program = new Command('wharf');
registerClientCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode;
}
