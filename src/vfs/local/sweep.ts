/**
 * Start-up clean-up of temporary upload files that a crash left behind.
 * Walks the given trees (not following symlinks), bounded in depth and in
 * entries visited, and removes every `.wharf-up-*` file last modified
 * before `before` (uploads that started since are left alone, so the sweep
 * can run while the server serves).
 */
import { lstat, opendir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './jail.js';

/** Limits of one sweep. */
export interface SweepLimits {
  maxDepth: number;
  maxEntries: number;
}

/** Removes leftover upload temporaries under `roots`; returns how many. */
export async function sweepTempFiles(roots: string[], before: Date, limits: SweepLimits = { maxDepth: 32, maxEntries: 1_000_000 }): Promise<number> {
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
      else if (d.isFile() && d.name.startsWith(TEMP_PREFIX)) {
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
