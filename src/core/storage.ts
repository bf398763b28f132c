/**
 * Storage backends chosen by the root: a local directory, `memory:` (an
 * empty in-memory tree), or a Vfs object a library user passes. The one
 * place that knows every backend; protocols only see the Vfs.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Vfs } from '../vfs/types.js';
import { VfsError } from '../vfs/errors.js';
import { MemoryVfs } from '../vfs/memory/memoryVfs.js';
import { LocalVfs } from '../vfs/local/localVfs.js';
import { DirLister } from '../vfs/local/lister.js';
import { isStorageObject, storageScheme, type StorageSpec } from '../config/storage.js';

/** How an account's storage is opened. */
export interface OpenOptions {
  /** Local disk only: write uploads in place (resumable) instead of atomically. */
  keepPartialUploads?: boolean;
}

/** Opens roots and homes, sharing what backends may share (the listing worker). */
export class StorageOpener {
  /** Directory listings of local roots run in one worker thread, shared by every session. */
  private readonly lister = new DirLister();
  private readonly opened = new Map<string, Promise<Vfs>>();
  /** Marks this machine's temporary files, so a sweep leaves other machines' alone. */
  readonly hostTag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

  /** Opens (once per spec, options and `key`) the storage a root or home names. */
  open(spec: StorageSpec, options: OpenOptions = {}, key = ''): Promise<Vfs> {
    if (isStorageObject(spec)) return Promise.resolve(spec);
    const id = `${spec}\0${options.keepPartialUploads === true}\0${storageScheme(spec) === 'memory' ? key : ''}`;
    let vfs = this.opened.get(id);
    if (!vfs) {
      vfs = this.create(spec, options);
      this.opened.set(id, vfs);
      vfs.catch(() => this.opened.delete(id));
    }
    return vfs;
  }

  private async create(spec: string, options: OpenOptions): Promise<Vfs> {
    switch (storageScheme(spec)) {
      case 'memory':
        return new MemoryVfs();
      case 'local':
        return LocalVfs.open(spec, { keepPartialUploads: options.keepPartialUploads, lister: this.lister, hostTag: this.hostTag });
      default:
        throw new VfsError('unsupported', 'this kind of storage is not supported');
    }
  }

  /** Every backend opened so far. */
  async all(): Promise<Vfs[]> {
    const settled = await Promise.allSettled(this.opened.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** Releases every backend and the listing worker. */
  async close(): Promise<void> {
    for (const vfs of await this.all()) await vfs.close?.().catch(() => undefined);
    await this.lister.close();
  }
}
