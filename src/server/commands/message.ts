/**
 * The `.message` files of anonymous archives: shown in the reply to a CWD
 * into their directory, and after login for the root.
 */
import type { Vfs } from '../../vfs/types.js';
import { joinPath } from '../../vfs/path.js';

const MAX_MESSAGE = 4096;

/** The lines of `dir/.message`, or [] when there is none (or it is unreadable). */
export async function readDirMessage(vfs: Vfs, dir: string): Promise<string[]> {
  try {
    const stream = await vfs.read(joinPath(dir, '.message'), 0);
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
