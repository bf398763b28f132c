/**
 * Temporary upload files: their names, and the start-up clean-up of those
 * a crash left behind. A name says which machine and process made it
 * (`.wharf-up-<host>-<pid>-<random>`), so a sweep removes only this
 * machine's files of processes that are gone: another worker, or another
 * node on a shared file system, keeps the uploads it is receiving. Names
 * of older versions (`.wharf-up-<random>`) are removed when older than
 * the start. Walks the trees without following symlinks, bounded in depth
 * and in entries visited.
 */
import { lstat, opendir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './jail.js';

/** Limits of one sweep. */
export interface SweepLimits {
  maxDepth: number;
  maxEntries: number;
}

/** The name of a temporary upload file made by this process. */
export function tempName(hostTag: string, random: string): string {
  return `${TEMP_PREFIX}${hostTag}-${process.pid}-${random}`;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a temporary file of this name is a leftover this machine may remove. */
export function isLeftover(name: string, hostTag: string): boolean {
  const rest = name.slice(TEMP_PREFIX.length);
  if (/^[0-9a-f]{16}$/.test(rest)) return true; // an older version's name
  const m = /^([^-]+)-(\d+)-[0-9a-f]+$/.exec(rest);
  if (!m || m[1] !== hostTag) return false;
  const pid = Number(m[2]);
  return pid === process.pid || !alive(pid);
}

/** Removes leftover upload temporaries under `roots` last modified before `before`; returns how many. */
export async function sweepTempFiles(roots: string[], before: Date, hostTag: string, limits: SweepLimits = { maxDepth: 32, maxEntries: 1_000_000 }): Promise<number> {
  let removed = 0;
  let visited = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > limits.maxDepth) return;
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      return;
    }
    const subdirs: string[] = [];
    for await (const d of handle) {
      if (++visited > limits.maxEntries) break;
      if (d.isDirectory()) subdirs.push(join(dir, d.name));
      else if (d.isFile() && d.name.startsWith(TEMP_PREFIX) && isLeftover(d.name, hostTag)) {
        const path = join(dir, d.name);
        const st = await lstat(path).catch(() => null);
        if (!st || st.mtimeMs >= before.getTime()) continue;
        await unlink(path).then(
          () => removed++,
          () => undefined,
        );
      }
    }
    for (const sub of subdirs) await walk(sub, depth + 1);
  };
  for (const root of [...new Set(roots)]) await walk(root, 0);
  return removed;
}
