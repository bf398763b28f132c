/**
 * Mirroring a remote tree down to a local directory, or a local tree up to a
 * remote directory, transferring only files whose size or time changed, with
 * N parallel connections.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FtpClient } from './client.js';
import { connect } from './connect.js';
import { FtpClientError } from './errors.js';
import type { FileInfo } from './listing/index.js';
import type { CallOptions } from './options.js';
import type { RemoteClient } from './remote.js';
import { SftpClient } from './sftp/client.js';
import { connectSftp } from './sftp/connect.js';
import type { TransferProgress } from './transfer.js';

/** Options of {@link mirrorDown} and {@link mirrorUp}. */
export interface MirrorOptions extends CallOptions {
  /** Number of connections transferring at once (default 1, the given client). */
  parallel?: number;
  /** Progress of each file transfer. */
  onProgress?: (progress: TransferProgress) => void;
  /** Called for every file decided on: transferred or skipped as unchanged. */
  onFile?: (event: { path: string; action: 'transfer' | 'skip'; size: number | undefined }) => void;
}

/** What a mirror run did. */
export interface MirrorResult {
  /** Relative paths transferred. */
  transferred: string[];
  /** Relative paths skipped because they were unchanged. */
  skipped: string[];
  /** Relative paths of directories created. */
  createdDirs: string[];
  /** Total bytes moved. */
  bytes: number;
}

/** Thrown when some files of a mirror failed; the others were transferred. */
export class MirrorError extends FtpClientError {
  override name = 'MirrorError';
  /** Each failed relative path with its error. */
  readonly failures: Array<{ path: string; error: Error }>;
  /** What was done anyway. */
  readonly result: MirrorResult;

  constructor(failures: Array<{ path: string; error: Error }>, result: MirrorResult) {
    const first = failures[0];
    super(`${failures.length} file(s) failed to mirror${first ? `, first ${first.path}: ${first.error.message}` : ''}`);
    this.failures = failures;
    this.result = result;
  }
}

interface Job {
  rel: string;
  size: number | undefined;
  run: (client: RemoteClient) => Promise<number>;
}

function joinRemote(base: string, rel: string): string {
  if (!rel) return base;
  if (!base) return rel;
  return base.endsWith('/') ? base + rel : `${base}/${rel}`;
}

async function absoluteRemote(client: RemoteClient, dir: string): Promise<string> {
  if (dir.startsWith('/')) return dir;
  return joinRemote(await client.pwd(), dir);
}

/**
 * Copies the remote directory `remoteDir` into `localDir` (created if
 * missing). A file is skipped when the local copy has the same size and
 * modification time; transferred files get the remote time, so a second run
 * transfers nothing. Symlinks are not followed.
 */
export async function mirrorDown(client: RemoteClient, remoteDir: string, localDir: string, options: MirrorOptions = {}): Promise<MirrorResult> {
  const result: MirrorResult = { transferred: [], skipped: [], createdDirs: [], bytes: 0 };
  const root = await absoluteRemote(client, remoteDir);
  const jobs: Job[] = [];
  await fs.promises.mkdir(localDir, { recursive: true });
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.shift() ?? '';
    const entries = await client.list(joinRemote(root, rel), { signal: options.signal });
    for (const entry of entries) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const local = path.join(localDir, ...childRel.split('/'));
      if (entry.type === 'directory') {
        const existed = await exists(local);
        await fs.promises.mkdir(local, { recursive: true });
        if (!existed) result.createdDirs.push(childRel);
        pending.push(childRel);
      } else if (entry.type === 'file' || entry.type === 'unknown') {
        if (await sameLocal(local, entry)) {
          result.skipped.push(childRel);
          options.onFile?.({ path: childRel, action: 'skip', size: entry.size });
          continue;
        }
        jobs.push({
          rel: childRel,
          size: entry.size,
          run: async (c) => {
            const n = await c.download(joinRemote(root, childRel), local, { expectedSize: entry.size, signal: options.signal, onProgress: options.onProgress });
            if (entry.modifiedAt) await fs.promises.utimes(local, entry.modifiedAt, entry.modifiedAt);
            return n;
          },
        });
      }
    }
  }
  await runJobs(client, jobs, result, options);
  return result;
}

/**
 * Copies the local directory `localDir` into `remoteDir` (created if
 * missing). A file is skipped when the remote copy has the same size and is
 * not older than the local one; uploaded files get the local time through
 * MFMT where the server offers it (SFTP: setstat).
 */
export async function mirrorUp(client: RemoteClient, localDir: string, remoteDir: string, options: MirrorOptions = {}): Promise<MirrorResult> {
  const result: MirrorResult = { transferred: [], skipped: [], createdDirs: [], bytes: 0 };
  const root = await absoluteRemote(client, remoteDir);
  const jobs: Job[] = [];
  await client.mkdir(root, { recursive: true, signal: options.signal });
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.shift() ?? '';
    const remoteEntries = new Map<string, FileInfo>();
    for (const e of await client.list(joinRemote(root, rel), { signal: options.signal })) remoteEntries.set(e.name, e);
    const dirents = await fs.promises.readdir(path.join(localDir, ...rel.split('/').filter(Boolean)), { withFileTypes: true });
    for (const d of dirents) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const local = path.join(localDir, ...childRel.split('/'));
      const remote = remoteEntries.get(d.name);
      if (d.isDirectory()) {
        if (remote?.type !== 'directory') {
          await client.mkdir(joinRemote(root, childRel), { signal: options.signal });
          result.createdDirs.push(childRel);
        }
        pending.push(childRel);
      } else if (d.isFile()) {
        const st = await fs.promises.stat(local);
        if (sameRemote(remote, st, client instanceof SftpClient)) {
          result.skipped.push(childRel);
          options.onFile?.({ path: childRel, action: 'skip', size: st.size });
          continue;
        }
        jobs.push({
          rel: childRel,
          size: st.size,
          run: async (c) => {
            const target = joinRemote(root, childRel);
            const n = await c.upload(local, target, { signal: options.signal, onProgress: options.onProgress });
            await c.setLastModified(target, st.mtime, { signal: options.signal }).catch(() => false);
            return n;
          },
        });
      }
    }
  }
  await runJobs(client, jobs, result, options);
  return result;
}

/** LIST times have minute precision (day for old files); MLSD and SFTP have seconds. */
function tolerance(entry: FileInfo, exact: boolean): number {
  return exact || /^[a-z.]+=/i.test(entry.raw) ? 0 : 60_000;
}

/** True when the remote file (if any) has the local file's size and is not older, to the precision of its listing. */
function sameRemote(remote: FileInfo | undefined, st: fs.Stats, exact: boolean): boolean {
  if (!remote || remote.type === 'directory' || remote.size !== st.size || !remote.modifiedAt) return false;
  return remote.modifiedAt.getTime() >= Math.floor(st.mtimeMs / 1000) * 1000 - tolerance(remote, exact);
}

async function exists(p: string): Promise<boolean> {
  return fs.promises.stat(p).then(
    () => true,
    () => false,
  );
}

async function sameLocal(local: string, entry: FileInfo): Promise<boolean> {
  const st = await fs.promises.stat(local).catch(() => undefined);
  if (!st?.isFile() || entry.size === undefined || st.size !== entry.size) return false;
  if (!entry.modifiedAt) return true;
  return Math.abs(st.mtimeMs - entry.modifiedAt.getTime()) < 1000;
}

/** A second connection like `client` (same options), or undefined for a client of another kind. */
async function openSibling(client: RemoteClient): Promise<RemoteClient | undefined> {
  if (client instanceof SftpClient) return connectSftp({ ...client.connectOptions });
  if (client instanceof FtpClient) return connect({ ...client.connectOptions, passive: client.passive });
  return undefined;
}

/** Runs the jobs on `parallel` connections: the given client plus siblings opened with its options. */
async function runJobs(client: RemoteClient, jobs: Job[], result: MirrorResult, options: MirrorOptions): Promise<void> {
  const failures: Array<{ path: string; error: Error }> = [];
  const workers = Math.max(1, Math.min(options.parallel ?? 1, jobs.length));
  const extra: RemoteClient[] = [];
  try {
    for (let i = 1; i < workers; i++) {
      const sibling = await openSibling(client);
      if (!sibling) break;
      extra.push(sibling);
    }
    const queue = [...jobs];
    await Promise.all(
      [client, ...extra].map(async (c) => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          if (options.signal?.aborted) return;
          try {
            options.onFile?.({ path: job.rel, action: 'transfer', size: job.size });
            result.bytes += await job.run(c);
            result.transferred.push(job.rel);
          } catch (err) {
            failures.push({ path: job.rel, error: err as Error });
            if (c.closed) return;
          }
        }
      }),
    );
  } finally {
    await Promise.all(extra.map((c) => c.close()));
  }
  options.signal?.throwIfAborted();
  if (failures.length > 0) throw new MirrorError(failures, result);
}
