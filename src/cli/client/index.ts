/**
 * Client sub-commands of the `wharf` CLI: get, put, ls, mirror, shell.
 * Registered onto the commander program by `main`. Actions never call
 * process.exit: failures print one `wharf: ...` line and set process.exitCode.
 */
import type { Command } from 'commander';
import { addCommonOptions, addIdentityOption, runAction, type CommonOptions } from './common.js';
import { getCommand, lsCommand, mirrorCommand, putCommand, type MirrorCliOptions, type TransferCliOptions } from './transfer-commands.js';
import { registerShellCommand } from './shell/index.js';

/** Adds the client commands to the program. */
export function registerClientCommands(program: Command): void {
  addCommonOptions(
    addIdentityOption(program.command('get'))
      .description('download a file (or every file matching a glob) from an ftp://, ftps:// or sftp:// URL')
      .argument('<url>', 'ftp://, ftps:// or sftp://[user[:password]@]host[:port]/path (a glob is allowed in the last segment)')
      .argument('[dest]', 'local file or directory (default: the remote name here; - for stdout)')
      .option('--continue', 'resume a partial download'),
  ).action((url: string, dest: string | undefined, opts: TransferCliOptions) => runAction((signal) => getCommand(url, dest, opts, signal)));

  addCommonOptions(
    addIdentityOption(program.command('put'))
      .description('upload a local file to a URL (a URL ending in / keeps the file name)')
      .argument('<file>', 'local file')
      .argument('<url>', 'destination URL')
      .option('--continue', 'resume a partial upload (appends the missing bytes)'),
  ).action((file: string, url: string, opts: TransferCliOptions) => runAction((signal) => putCommand(file, url, opts, signal)));

  addCommonOptions(
    addIdentityOption(program.command('ls'))
      .description('list a remote directory')
      .argument('<url>', 'directory URL (a glob is allowed in the last segment)')
      .option('--names', 'print names only'),
  ).action((url: string, opts: CommonOptions & { names?: boolean }) => runAction((signal) => lsCommand(url, opts, signal)));

  addCommonOptions(
    addIdentityOption(program.command('mirror'))
      .description('copy a remote directory into DIR, or DIR into the remote directory with --reverse; only changes move')
      .argument('<url>', 'remote directory URL')
      .argument('<dir>', 'local directory')
      .option('--reverse', 'upload DIR to the URL instead')
      .option('--parallel <n>', 'number of parallel connections', '1'),
  ).action((url: string, dir: string, opts: MirrorCliOptions) => runAction((signal) => mirrorCommand(url, dir, opts, signal)));

  registerShellCommand(program);
}
