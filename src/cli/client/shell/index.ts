/** `wharf shell [URL]`: the interactive ftp> prompt (its flags, main loop and tab completion). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { FtpAbortError } from '../../../client/index.js';
import { addCommonOptions, addIdentityOption, runAction } from '../common.js';
import { COMMANDS, lookup } from './commands.js';
import { LineReader, splitArgs, type Completer } from './lines.js';
import { Shell, type ShellCliOptions } from './shell.js';

export type { ShellCliOptions } from './shell.js';

const LOCAL_COMMANDS = new Set(['lcd', 'put', 'send', 'mput']);

function completer(getShell: () => Shell | undefined, generation: () => number): Completer {
  let cache: { key: string; names: string[] } | undefined;
  return (line, callback) => {
    const shell = getShell();
    const words = line.split(/\s+/);
    const last = words[words.length - 1] ?? '';
    if (words.length <= 1) {
      const hits = Object.keys(COMMANDS)
        .filter((c) => c.startsWith(last))
        .sort();
      callback(null, [hits, last]);
      return;
    }
    if (!shell) {
      callback(null, [[], last]);
      return;
    }
    const dirPart = last.includes('/') ? last.slice(0, last.lastIndexOf('/') + 1) : '';
    if (LOCAL_COMMANDS.has(words[0] ?? '')) {
      fs.promises.readdir(shell.local(dirPart || '.'), { withFileTypes: true }).then(
        (ents) => callback(null, [ents.map((e) => dirPart + e.name + (e.isDirectory() ? '/' : '')).filter((n) => n.startsWith(last)), last]),
        () => callback(null, [[], last]),
      );
      return;
    }
    const client = shell.client;
    if (!client || client.closed || (shell.ftp && !shell.ftp.loggedIn)) {
      callback(null, [[], last]);
      return;
    }
    const key = `${generation()}:${shell.host}:${dirPart}`;
    const names =
      cache?.key === key
        ? Promise.resolve(cache.names)
        : (async () => {
            shell.silent = true;
            try {
              const list = await client.list(dirPart);
              const n = list.map((e) => dirPart + e.name + (e.type === 'directory' ? '/' : ''));
              cache = { key, names: n };
              return n;
            } finally {
              shell.silent = false;
            }
          })();
    names.then(
      (n) => callback(null, [n.filter((x) => x.startsWith(last)), last]),
      () => callback(null, [[], last]),
    );
  };
}

/**
 * Adds `shell` to the program, with the classic client's flags: `-n`, `-i`,
 * `-g`, `-v` (or `--verbose`), `-d`, `-p`.
 */
export function registerShellCommand(program: Command): void {
  addIdentityOption(
    addCommonOptions(
      program
        .command('shell')
        .description('interactive ftp> prompt, like the classic ftp client')
        .argument('[url]', 'server to open at start')
        .option('-n, --no-auto-login', 'do not log in at open; wait for the user command')
        .option('-i, --no-prompt', 'do not ask before each file of mget, mput and mdelete')
        .option('-g, --no-glob', 'take the names given to mget, mput and mdelete literally')
        .option('-v', 'verbose: show every server reply even when reading a script (also --verbose)')
        .option('-d, --debug', 'show the commands sent to the server')
        .option('-p, --passive', 'use passive mode (the default; see --active)'),
    ),
    false,
  ).action((url: string | undefined, opts: ShellCliOptions) => runAction(() => shellCommand(url, opts)));
}

/** Runs the shell until `quit` or end of input. The exit code stays 0 unless the shell cannot start. */
export async function shellCommand(url: string | undefined, options: ShellCliOptions): Promise<void> {
  const interactive = Boolean(process.stdin.isTTY);
  let generation = 0;
  // The completer is built before the shell it completes for: it reaches it through this reference.
  const shellRef: { current: Shell | undefined } = { current: undefined };
  const reader = new LineReader(
    process.stdin,
    process.stdout,
    interactive,
    completer(
      () => shellRef.current,
      () => generation,
    ),
  );
  const shell = new Shell({ input: process.stdin, output: process.stdout, interactive }, options, reader);
  shellRef.current = shell;
  let busy = false;
  reader.onInterrupt = () => {
    if (busy) shell.controller.abort();
    else process.stdout.write('^C\n');
  };
  try {
    if (url) await execute(shell, ['open', url]);
    while (!shell.done) {
      const line = await reader.line(shell.prompt);
      if (line === null) break;
      const args = splitArgs(line);
      if (args.length === 0) continue;
      busy = true;
      try {
        await execute(shell, args);
      } finally {
        busy = false;
        generation++;
      }
    }
  } finally {
    reader.close();
    await shell.close().catch(() => undefined);
  }
}

async function execute(shell: Shell, args: string[]): Promise<void> {
  const [name = '', ...rest] = args;
  const cmd = lookup(name);
  if (cmd === 'ambiguous') {
    shell.print('?Ambiguous command');
    return;
  }
  if (!cmd) {
    shell.print('?Invalid command');
    return;
  }
  if (rest.length < (cmd.min ?? 0)) {
    shell.print(`usage: ${cmd.usage ?? name}`);
    return;
  }
  shell.controller = new AbortController();
  try {
    await cmd.run(shell, rest);
  } catch (err) {
    if (err instanceof FtpAbortError || shell.controller.signal.aborted) {
      shell.print('Transfer aborted; connection closed.');
      shell.client = undefined;
      return;
    }
    shell.report(err);
  }
}
