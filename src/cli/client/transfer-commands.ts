/** The one-shot sub-commands: `get`, `put`, `ls` and `mirror`. */
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { mirrorDown, mirrorUp, type FileInfo, type RemoteClient } from '../../client/index.js';
import { hasGlob, openClient, parseUrlArg, splitRemote, UsageError, type CommonOptions } from './common.js';
import { formatBytes, progressMode, ProgressDisplay } from './progress.js';

/** Options of `get` and `put`. */
export interface TransferCliOptions extends CommonOptions {
  continue?: boolean;
}

/** Options of `mirror`. */
export interface MirrorCliOptions extends CommonOptions {
  reverse?: boolean;
  parallel?: string;
}

async function isDir(p: string): Promise<boolean> {
  return fs.promises.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function withClient<T>(urlText: string, opts: CommonOptions, signal: AbortSignal, fn: (client: RemoteClient, path: string, isDirectory: boolean) => Promise<T>): Promise<T> {
  const url = parseUrlArg(urlText);
  const client = await openClient(url, opts, signal);
  try {
    return await fn(client, url.path, url.isDirectory);
  } finally {
    await client.close();
  }
}

/** `wharf get URL [DEST]`: downloads a file, or every file matching a glob in the last segment. */
export async function getCommand(urlText: string, dest: string | undefined, opts: TransferCliOptions, signal: AbortSignal): Promise<void> {
  await withClient(urlText, opts, signal, async (client, remote, isDirectory) => {
    if (!remote || isDirectory) throw new UsageError('the URL names a directory: use `wharf ls` or `wharf mirror`');
    const get: GetContext = { client, opts, display: new ProgressDisplay(progressMode(opts)), signal };
    const { dir, base } = splitRemote(remote);
    if (hasGlob(base)) {
      const match = picomatch(base, { dot: false });
      const files = (await client.list(dir, { signal })).filter((f: FileInfo) => f.type !== 'directory' && match(f.name));
      if (files.length === 0) throw new Error(`no file matches ${remote}`);
      const target = dest ?? '.';
      await fs.promises.mkdir(target, { recursive: true });
      for (const f of files) {
        await fetchOne(get, dir ? `${dir.replace(/\/$/, '')}/${f.name}` : f.name, path.join(target, f.name));
      }
      return;
    }
    if (dest === '-') {
      await client.download(remote, process.stdout, { signal });
      return;
    }
    let local = dest ?? base;
    if (dest !== undefined && (dest.endsWith('/') || dest.endsWith(path.sep) || (await isDir(dest)))) local = path.join(dest, base);
    await fetchOne(get, remote, local);
  });
}

/** What the downloads of one `get` share. */
interface GetContext {
  client: RemoteClient;
  opts: TransferCliOptions;
  display: ProgressDisplay;
  signal: AbortSignal;
}

/** Downloads one file to `local`, resuming with --continue. */
async function fetchOne({ client, opts, display, signal }: GetContext, remote: string, local: string): Promise<void> {
  const size = await client.size(remote, { signal }).catch(() => undefined);
  let offset = 0;
  if (opts.continue) {
    offset = await fs.promises.stat(local).then(
      (s) => s.size,
      () => 0,
    );
    if (size !== undefined && offset > size) throw new Error(`${local} is larger than the remote file; cannot resume`);
    if (size !== undefined && offset === size) {
      display.finish(local, 0, 0);
      return;
    }
  }
  const started = Date.now();
  try {
    const n = await client.download(remote, local, { offset, expectedSize: size, onProgress: display.update, signal });
    display.finish(local, n, Date.now() - started);
  } catch (err) {
    display.stop();
    throw err;
  }
}

/** `wharf put FILE URL`: uploads a file; a URL ending in `/` receives it under its own name. */
export async function putCommand(file: string, urlText: string, opts: TransferCliOptions, signal: AbortSignal): Promise<void> {
  const st = await fs.promises.stat(file).catch(() => undefined);
  if (!st?.isFile()) throw new UsageError(`not a readable file: ${file}`);
  await withClient(urlText, opts, signal, async (client, remotePath, isDirectory) => {
    const remote = !remotePath || isDirectory ? `${remotePath}${path.basename(file)}` : remotePath;
    const display = new ProgressDisplay(progressMode(opts));
    let offset = 0;
    if (opts.continue) {
      offset = await client.size(remote, { signal }).catch(() => 0);
      if (offset > st.size) throw new Error(`the remote ${remote} is larger than ${file}; cannot resume`);
      if (offset === st.size) return;
    }
    const started = Date.now();
    try {
      const n = await client.upload(file, remote, { offset, append: offset > 0, onProgress: display.update, signal });
      display.finish(remote, n, Date.now() - started);
    } catch (err) {
      display.stop();
      throw err;
    }
  });
}

/** Formats a listing entry like `ls -l`, with an ISO date. */
export function formatEntry(f: FileInfo): string {
  const kind = f.type === 'directory' ? 'd' : f.type === 'symlink' ? 'l' : '-';
  const perms = f.permissions && /^[-rwxsStTlL]{9}$/.test(f.permissions) ? f.permissions : '---------';
  const date = f.modifiedAt ? f.modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : '                ';
  const size = f.size === undefined ? '-' : String(f.size);
  return `${kind}${perms} ${size.padStart(12)} ${date} ${f.name}${f.target ? ` -> ${f.target}` : ''}`;
}

/** `wharf ls URL`: lists a directory (names only with --names). */
export async function lsCommand(urlText: string, opts: CommonOptions & { names?: boolean }, signal: AbortSignal): Promise<void> {
  await withClient(urlText, opts, signal, async (client, remote) => {
    const { dir, base } = splitRemote(remote);
    let entries: FileInfo[];
    if (hasGlob(base)) {
      const match = picomatch(base);
      entries = (await client.list(dir, { signal })).filter((f) => match(f.name));
    } else {
      entries = await client.list(remote, { signal });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out = entries.map((f) => (opts.names ? f.name : formatEntry(f))).join('\n');
    if (out) process.stdout.write(`${out}\n`);
  });
}

/** `wharf mirror URL DIR [--reverse] [--parallel N]`. */
export async function mirrorCommand(urlText: string, dir: string, opts: MirrorCliOptions, signal: AbortSignal): Promise<void> {
  const parallel = Number(opts.parallel ?? '1');
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel must be an integer from 1 to 64, not ${opts.parallel}`);
  if (opts.reverse && !(await isDir(dir))) throw new UsageError(`not a directory: ${dir}`);
  await withClient(urlText, opts, signal, async (client, remote) => {
    const display = new ProgressDisplay(parallel === 1 ? progressMode(opts) : 'none');
    const started = Date.now();
    const options = {
      parallel,
      signal,
      onProgress: display.update,
      onFile: opts.verbose ? (e: { path: string; action: string }) => process.stderr.write(`${e.action} ${e.path}\n`) : undefined,
    };
    const result = opts.reverse ? await mirrorUp(client, dir, remote, options) : await mirrorDown(client, remote, dir, options);
    display.stop();
    if (!opts.quiet) {
      const secs = ((Date.now() - started) / 1000).toFixed(2);
      process.stdout.write(
        `mirror: ${result.transferred.length} transferred, ${result.skipped.length} unchanged, ${result.createdDirs.length} directories created, ${formatBytes(result.bytes)} in ${secs} s\n`,
      );
    }
  });
}
