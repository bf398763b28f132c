/**
 * The `.message` files of anonymous archives: shown in the reply to a CWD
 * into their directory and after login for the root (FTP), and above a
 * directory page (the web view). Shared by the protocols. Looked up at most
 * every few seconds per directory: logins and CWDs are frequent, the files
 * rarely change.
 */
import type { Vfs } from '../vfs/types.js';
import { joinPath } from '../vfs/path.js';

const MAX_MESSAGE = 4096;
const TTL_MS = 5000;
const MAX_ENTRIES = 256;

/** The lines of `dir/.message`, or [] when there is none (or it is unreadable). */
async function readDirMessage(vfs: Vfs, dir: string): Promise<string[]> {
  try {
    const { stream } = await vfs.read(joinPath(dir, '.message'), 0);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_MESSAGE) break;
    }
    stream.destroy();
    const text = Buffer.concat(chunks).subarray(0, MAX_MESSAGE).toString('utf8');
    return text.replace(/\r?\n$/, '').split(/\r?\n/);
  } catch {
    return [];
  }
}

/** A short-lived, bounded cache of `.message` contents per file system and directory. */
export class MessageCache {
  private readonly entries = new WeakMap<Vfs, Map<string, { lines: Promise<string[]>; expires: number }>>();

  /** The message lines of `dir` in `vfs`. */
  get(vfs: Vfs, dir: string): Promise<string[]> {
    let byDir = this.entries.get(vfs);
    if (!byDir) this.entries.set(vfs, (byDir = new Map<string, { lines: Promise<string[]>; expires: number }>()));
    const now = Date.now();
    const hit = byDir.get(dir);
    if (hit && hit.expires > now) return hit.lines;
    const lines = readDirMessage(vfs, dir);
    byDir.delete(dir);
    byDir.set(dir, { lines, expires: now + TTL_MS });
    if (byDir.size > MAX_ENTRIES) byDir.delete(byDir.keys().next().value as string);
    return lines;
  }
}
