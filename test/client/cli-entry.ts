/**
 * Test-only entry that runs the client sub-commands on a bare commander
 * program. The CLI tests use bin/wharf.js once src/cli/main.ts exists and
 * fall back to this file until then.
 */
import { Command } from 'commander';
import { registerClientCommands } from '../../src/cli/client/index.js';

const program = new Command('wharf');
registerClientCommands(program);
await program.parseAsync(process.argv);
