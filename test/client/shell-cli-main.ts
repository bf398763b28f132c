/**
 * `wharf` with only the `shell` command, registered by registerShellCommand,
 * for the tests of the shell's own flags (`-i`, `-g`, `-v`, `-d`, `-p`):
 * spawned as `node shell-cli-main.js shell [flags] [url]`. Not a test file.
 */
import { Command, CommanderError } from 'commander';
import { registerShellCommand } from '../../src/cli/client/shell/index.js';

const program = new Command('wharf').exitOverride();
registerShellCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = err instanceof CommanderError ? err.exitCode : 1;
});
