/** The shell's command table: one entry per classic ftp(1) command. */
import fs from 'node:fs';
import picomatch from 'picomatch';
import { parseListLine } from '../../../client/index.js';
import { hasGlob, splitRemote } from '../common.js';
import { ShellError, type Shell } from './shell.js';
import { setDebug, setHash, statusLines, toggle } from './toggles.js';
import { getFile, mdelete, mget, mput, putFile } from './transfers.js';

/** One shell command. */
export interface ShellCommand {
  /** Short help, as `help NAME` prints it. */
  help: string;
  /** Usage shown when arguments are missing. */
  usage?: string;
  /** Minimum number of arguments. */
  min?: number;
  run(shell: Shell, args: string[]): Promise<void>;
}

/** Writes listing lines to a local file or the shell output. */
function emit(shell: Shell, lines: string[], localFile: string | undefined): void {
  if (localFile && localFile !== '-') fs.writeFileSync(shell.local(localFile), lines.map((l) => `${l}\n`).join(''));
  else for (const l of lines) shell.print(l);
}

async function listing(shell: Shell, verb: 'LIST' | 'NLST', args: string[]): Promise<void> {
  const client = shell.need();
  const [target = '', localFile] = args;
  const signal = shell.controller.signal;
  const { dir, base } = splitRemote(target);
  const match = hasGlob(base) ? picomatch(base, { dot: base.startsWith('.') }) : undefined;
  try {
    if (!shell.ftp) {
      // SFTP: `dir` shows the server's long names (ls -l lines), `ls` the bare names, as OpenSSH's sftp does.
      const entries = await client.list(match ? dir : target, { signal });
      const shown = entries.filter((e) => !match || match(e.name));
      emit(
        shell,
        shown.map((e) => (verb === 'LIST' ? e.raw : e.name)),
        localFile,
      );
      return;
    }
    const ftp = shell.ftp;
    const keep = (l: string): boolean => {
      const name = verb === 'LIST' ? parseListLine(l)?.name : l.split('/').pop();
      return name !== undefined && match !== undefined && match(name);
    };
    await shell.holdingFinal(
      () => ftp.listRaw(match ? dir : target, { command: verb, signal }),
      (lines) => emit(shell, match ? lines.filter(keep) : lines, localFile),
    );
  } finally {
    shell.ring();
  }
}

async function setType(shell: Shell, mode: 'binary' | 'ascii'): Promise<void> {
  if (shell.sftp && mode === 'ascii') throw new ShellError('ascii: not available over SFTP (files travel as they are).');
  shell.mode = mode;
  const ftp = shell.ftp;
  if (ftp) await shell.exposing(['TYPE'], () => ftp.send(mode === 'binary' ? 'TYPE I' : 'TYPE A'));
}

/** The command table, by name. Aliases share entries. */
export const COMMANDS: Record<string, ShellCommand> = {
  open: {
    help: 'connect to remote ftp server',
    usage: 'open host [port] | open ftp://host[:port] | open sftp://[user@]host[:port]',
    min: 1,
    run: (s, a) => s.open(a[0] ?? '', a[1]),
  },
  user: { help: 'send new user information', usage: 'user username [password]', min: 1, run: (s, a) => s.login(a[0], a[1]) },
  close: { help: 'terminate ftp session', run: (s) => s.close() },
  ls: { help: 'list contents of remote directory', run: (s, a) => listing(s, 'NLST', a) },
  dir: { help: 'list contents of remote directory', run: (s, a) => listing(s, 'LIST', a) },
  cd: {
    help: 'change remote working directory',
    usage: 'cd remote-directory',
    min: 1,
    run: async (s, a) => {
      await s.need().cd(a[0] ?? '');
    },
  },
  cdup: {
    help: 'change remote working directory to parent directory',
    run: async (s) => {
      await s.need().cd('..');
    },
  },
  lcd: {
    help: 'change local working directory',
    run: async (s, a) => {
      const target = s.local(a[0] ?? process.env.HOME ?? '/');
      const st = await fs.promises.stat(target).catch(() => undefined);
      if (!st?.isDirectory()) throw new ShellError(`local: ${a[0] ?? target}: No such directory`);
      s.localDir = target;
      s.print(`Local directory now ${target}`);
    },
  },
  pwd: {
    help: 'print working directory on remote machine',
    run: async (s) => {
      const client = s.need();
      if (s.sftp) {
        s.print(`Remote working directory: ${await client.pwd()}`);
        return;
      }
      await s.withVerbose(true, () =>
        s.exposing(['PWD'], async () => {
          await client.pwd();
        }),
      );
    },
  },
  get: { help: 'receive file', usage: 'get remote-file [local-file]', min: 1, run: (s, a) => getFile(s, a[0] ?? '', a[1]) },
  put: { help: 'send one file', usage: 'put local-file [remote-file]', min: 1, run: (s, a) => putFile(s, a[0] ?? '', a[1]) },
  mget: { help: 'get multiple files', usage: 'mget remote-files', min: 1, run: mget },
  mput: { help: 'send multiple files', usage: 'mput local-files', min: 1, run: mput },
  mdelete: { help: 'delete multiple files', usage: 'mdelete remote-files', min: 1, run: mdelete },
  mkdir: {
    help: 'make directory on the remote machine',
    usage: 'mkdir directory-name',
    min: 1,
    run: async (s, a) => {
      await s.need().mkdir(a[0] ?? '');
    },
  },
  rmdir: {
    help: 'remove directory on the remote machine',
    usage: 'rmdir directory-name',
    min: 1,
    run: async (s, a) => {
      await s.need().removeDir(a[0] ?? '');
    },
  },
  delete: {
    help: 'delete remote file',
    usage: 'delete remote-file',
    min: 1,
    run: async (s, a) => {
      await s.need().remove(a[0] ?? '');
    },
  },
  rename: {
    help: 'rename file',
    usage: 'rename from-name to-name',
    min: 2,
    run: async (s, a) => {
      await s.need().rename(a[0] ?? '', a[1] ?? '');
    },
  },
  size: {
    help: 'show size of remote file',
    usage: 'size remote-file',
    min: 1,
    run: async (s, a) => {
      const client = s.need();
      if (s.sftp) {
        s.print(`${a[0] ?? ''}\t${await client.size(a[0] ?? '')}`);
        return;
      }
      await s.exposing(['SIZE', 'TYPE'], async () => {
        await client.size(a[0] ?? '');
      });
    },
  },
  binary: { help: 'set binary transfer type', run: (s) => setType(s, 'binary') },
  ascii: { help: 'set ascii transfer type', run: (s) => setType(s, 'ascii') },
  passive: { help: 'enter passive transfer mode', run: async (s, a) => toggle(s, 'passive', a[0]) },
  prompt: { help: 'force interactive prompting on multiple commands', run: async (s, a) => toggle(s, 'prompting', a[0]) },
  glob: { help: 'toggle metacharacter expansion of local file names', run: async (s, a) => toggle(s, 'glob', a[0]) },
  verbose: { help: 'toggle verbose mode', run: async (s, a) => toggle(s, 'verbose', a[0]) },
  bell: { help: 'beep when command completed', run: async (s, a) => toggle(s, 'bell', a[0]) },
  runique: { help: 'toggle store unique for local files', run: async (s, a) => toggle(s, 'runique', a[0]) },
  hash: { help: "toggle printing `#' for each buffer transferred", run: async (s, a) => setHash(s, a[0]) },
  debug: { help: 'toggle/set debugging mode', run: async (s, a) => setDebug(s, a[0]) },
  quote: {
    help: 'send arbitrary ftp command',
    usage: 'quote line-to-send',
    min: 1,
    run: async (s, a) => {
      const ftp = s.needFtp('quote');
      await s.exposing([...s.exposed, (a[0] ?? '').toUpperCase()], () => ftp.send(a.join(' ')));
    },
  },
  status: {
    help: 'show current status',
    run: async (s) => {
      s.print(s.client && !s.client.closed ? `Connected to ${s.host}.` : 'Not connected.');
      if (s.ftp) s.print(`TLS: ${s.ftp.secure ? 'on' : 'off'}; logged in: ${s.ftp.loggedIn ? 'yes' : 'no'}`);
      else if (s.sftp) s.print('Protocol: SFTP (SSH); logged in: yes');
      s.print(`Mode: stream; Type: ${s.mode}; Structure: file`);
      for (const line of statusLines(s)) s.print(line);
      s.print(`Local directory: ${s.localDir}`);
    },
  },
  help: {
    help: 'print local help information',
    run: async (s, a) => {
      if (a.length === 0) {
        s.print('Commands may be abbreviated.  Commands are:\n');
        const names = Object.keys(COMMANDS).sort();
        for (let i = 0; i < names.length; i += 5)
          s.print(
            names
              .slice(i, i + 5)
              .map((n) => n.padEnd(15))
              .join('')
              .trimEnd(),
          );
        return;
      }
      for (const name of a) {
        const cmd = lookup(name);
        if (cmd === 'ambiguous') s.print(`?Ambiguous help command ${name}`);
        else s.print(cmd ? `${name.padEnd(10)}\t${cmd.help}` : `?Invalid help command ${name}`);
      }
    },
  },
  quit: {
    help: 'terminate ftp session and exit',
    run: async (s) => {
      await s.close();
      s.done = true;
    },
  },
};
COMMANDS['bye'] = COMMANDS['quit'] as ShellCommand;
COMMANDS['exit'] = COMMANDS['quit'] as ShellCommand;
COMMANDS['disconnect'] = COMMANDS['close'] as ShellCommand;
COMMANDS['recv'] = COMMANDS['get'] as ShellCommand;
COMMANDS['send'] = COMMANDS['put'] as ShellCommand;
COMMANDS['?'] = COMMANDS['help'] as ShellCommand;
COMMANDS['literal'] = COMMANDS['quote'] as ShellCommand;

/** Finds a command by name or unambiguous prefix, as the classic client allows; `ambiguous` when a prefix names several. */
export function lookup(name: string): ShellCommand | 'ambiguous' | undefined {
  const exact = COMMANDS[name];
  if (exact) return exact;
  const candidates = new Set(
    Object.keys(COMMANDS)
      .filter((n) => n.startsWith(name))
      .map((n) => COMMANDS[n]),
  );
  if (candidates.size > 1) return 'ambiguous';
  return [...candidates][0];
}
