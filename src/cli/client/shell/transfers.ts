/**
 * The shell's file transfers: get, put, mget, mput and mdelete, with what
 * the classic client's toggles do to them: hash marks, the bell, receive
 * unique, globbing and the questions of `prompt`.
 */
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { FtpAbortError, type TransferProgress } from '../../../client/index.js';
import { hasGlob, splitRemote } from '../common.js';
import { ShellError, type Shell } from './shell.js';

/** `N bytes received in S secs (R kB/s)`. */
function rate(bytes: number, ms: number, verb: 'received' | 'sent'): string {
  const secs = ms / 1000;
  const r = secs > 0 ? bytes / secs : bytes;
  const [value, unit] = r >= 1e6 ? [r / 1e6, 'MB/s'] : [r / 1e3, 'kB/s'];
  return `${bytes} bytes ${verb} in ${secs.toFixed(2)} secs (${value.toFixed(1)} ${unit})`;
}

/**
 * Hash marks while `hash` is on: one `#` each time the transfer passes a
 * multiple of the mark size, and one more with the newline at the end (so a
 * 5000-byte file at 1024 bytes a mark shows `#####`), as inetutils prints them.
 */
class HashMarks {
  private next: number;

  constructor(private readonly shell: Shell) {
    this.next = shell.hash;
  }

  /** Transfer options that report every chunk, when marks are wanted. */
  options(): { onProgress?: (p: TransferProgress) => void; progressInterval?: number } {
    const size = this.shell.hash;
    if (size <= 0) return {};
    const onProgress = (p: TransferProgress): void => {
      for (; p.bytes >= this.next; this.next += size) this.shell.write('#');
    };
    return { onProgress, progressInterval: 0 };
  }

  /** Ends the line of marks of a transfer that moved `bytes`. */
  finish(bytes: number): void {
    if (this.shell.hash > 0 && bytes > 0) this.shell.write('#\n');
  }
}

/**
 * With `runique`, a local name not yet taken: NAME, else NAME.1 to NAME.99.
 * (inetutils 2.4 adds the suffix even when NAME is free; the manual's rule is
 * followed here.)
 */
async function unique(file: string): Promise<string> {
  const taken = (p: string): Promise<boolean> =>
    fs.promises.lstat(p).then(
      () => true,
      () => false,
    );
  if (!(await taken(file))) return file;
  for (let i = 1; i < 100; i++) if (!(await taken(`${file}.${i}`))) return `${file}.${i}`;
  throw new ShellError(`runique: can't find unique file name for ${file}.`);
}

/** True when a failure ends the command: an interruption, or a connection that is gone. */
function fatal(shell: Shell, err: unknown): boolean {
  return err instanceof FtpAbortError || shell.controller.signal.aborted || shell.client === undefined || shell.client.closed;
}

/**
 * Runs one transfer: hash marks while it runs, its final reply after them,
 * the rate line when verbose, and the bell after it, even when it failed. A
 * failure is reported here and the command goes on (mget to the next file,
 * as the classic client does), unless it ended the connection.
 */
async function transfer(shell: Shell, verb: 'received' | 'sent', run: (marks: HashMarks) => Promise<number>): Promise<void> {
  const marks = new HashMarks(shell);
  const started = Date.now();
  try {
    const bytes = await shell.holdingFinal(
      () => run(marks),
      (n) => marks.finish(n),
    );
    if (shell.verbose) shell.print(rate(bytes, Date.now() - started, verb));
  } catch (err) {
    if (fatal(shell, err)) {
      shell.ring();
      throw err;
    }
    shell.report(err);
  }
  shell.ring();
}

/** `get REMOTE [LOCAL]`; `names` prints `local: ... remote: ...` first, as mget does. */
export async function getFile(shell: Shell, remote: string, localArg?: string, names = false): Promise<void> {
  const client = shell.need();
  const local = localArg ?? splitRemote(remote).base;
  if (names && shell.verbose) shell.print(`local: ${local} remote: ${remote}`);
  await transfer(shell, 'received', async (marks) => {
    const file = shell.runique ? await unique(shell.local(local)) : shell.local(local);
    return client.download(remote, file, { mode: shell.mode, signal: shell.controller.signal, ...marks.options() });
  });
}

/** `put LOCAL [REMOTE]`; `names` as for {@link getFile}. */
export async function putFile(shell: Shell, localArg: string, remoteArg?: string, names = false): Promise<void> {
  const client = shell.need();
  const remote = remoteArg ?? path.basename(localArg);
  if (names && shell.verbose) shell.print(`local: ${localArg} remote: ${remote}`);
  await transfer(shell, 'sent', async (marks) => {
    const file = shell.local(localArg);
    const st = await fs.promises.stat(file).catch(() => undefined);
    if (!st) throw new ShellError(`local: ${localArg}: No such file or directory`);
    return client.upload(file, remote, { mode: shell.mode, signal: shell.controller.signal, ...marks.options() });
  });
}

/**
 * Remote names matching a pattern, in the server's order (the order the
 * classic client asks about them); matched here since many servers do not
 * expand globs. With `glob` off, or no glob characters, the name itself. No
 * match says nothing, as in the classic client.
 */
async function remoteMatches(shell: Shell, pattern: string): Promise<string[]> {
  const client = shell.need();
  if (!shell.glob || !hasGlob(pattern)) return [pattern];
  const { dir, base } = splitRemote(pattern);
  const match = picomatch(base, { dot: base.startsWith('.') });
  // The classic client fetches the names with verbose off: only errors show.
  const entries = await shell.withVerbose(false, () => client.list(dir, { signal: shell.controller.signal }));
  const prefix = dir ? `${dir.replace(/\/$/, '')}/` : '';
  return entries.filter((e) => match(e.name) && e.type !== 'directory').map((e) => prefix + e.name);
}

/**
 * Local names matching a pattern, sorted as glob(3) sorts them; with `glob`
 * off, or no match (then put says there is no such file), the name itself.
 */
async function localMatches(shell: Shell, pattern: string): Promise<string[]> {
  if (!shell.glob || !hasGlob(pattern)) return [pattern];
  const match = picomatch(pattern);
  const names = (await fs.promises.readdir(shell.localDir, { withFileTypes: true }))
    .filter((d) => d.isFile() && match(d.name))
    .map((d) => d.name)
    .sort();
  return names.length > 0 ? names : [pattern];
}

/** `mget PATTERN...`. */
export async function mget(shell: Shell, patterns: string[]): Promise<void> {
  for (const pattern of patterns) {
    for (const name of await remoteMatches(shell, pattern)) {
      if (await shell.confirm('mget', name)) await getFile(shell, name, splitRemote(name).base, !shell.prompting);
    }
  }
}

/** `mput PATTERN...`. */
export async function mput(shell: Shell, patterns: string[]): Promise<void> {
  for (const pattern of patterns) {
    for (const name of await localMatches(shell, pattern)) {
      if (await shell.confirm('mput', name)) await putFile(shell, name, path.basename(name), !shell.prompting);
    }
  }
}

/** `mdelete PATTERN...`: a name the server refuses is skipped, as in the classic client. */
export async function mdelete(shell: Shell, patterns: string[]): Promise<void> {
  for (const pattern of patterns) {
    for (const name of await remoteMatches(shell, pattern)) {
      if (!(await shell.confirm('mdelete', name))) continue;
      await shell
        .need()
        .remove(name)
        .catch((err: unknown) => {
          if (fatal(shell, err)) throw err;
          shell.report(err);
        });
    }
  }
}
