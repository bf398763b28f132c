/**
 * The path jail, part two: mapping a virtual path to a host path under the
 * root and proving, with realpath, that symlinks do not lead outside it.
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { VfsError, fromErrno } from '../errors.js';

/** Marks the temporary files of uploads in progress. */
export const TEMP_PREFIX = '.wharf-up-';

/** A root directory and the checks that keep paths inside it. */
export class Jail {
  private constructor(readonly realRoot: string) {}

  /** Resolves the root's own symlinks once. */
  static async open(root: string): Promise<Jail> {
    return new Jail(await realpath(root));
  }

  /** True when a host path is the root or below it. */
  contains(hostPath: string): boolean {
    return hostPath === this.realRoot || hostPath.startsWith(this.realRoot.endsWith(sep) ? this.realRoot : this.realRoot + sep);
  }

  /** The host path for a virtual path, without following anything. */
  lexical(virtualPath: string): string {
    if (virtualPath.split('/').some((s) => s.startsWith(TEMP_PREFIX))) throw new VfsError('not-found');
    return join(this.realRoot, virtualPath);
  }

  /** The real host path of an existing virtual path; outside the root reads as not found. */
  async existing(virtualPath: string): Promise<string> {
    let real: string;
    try {
      real = await realpath(this.lexical(virtualPath));
    } catch (err) {
      throw fromErrno(err);
    }
    if (!this.contains(real)) throw new VfsError('not-found');
    return real;
  }

  /**
   * The host path at which to create `virtualPath`: its parent resolved for
   * real (it must exist, be inside and be a directory), then the plain name.
   */
  async creatable(virtualPath: string): Promise<{ dir: string; name: string; path: string }> {
    const i = virtualPath.lastIndexOf('/');
    const name = virtualPath.slice(i + 1);
    if (name === '') throw new VfsError('denied', 'cannot create the root');
    const dir = await this.existing(i <= 0 ? '/' : virtualPath.slice(0, i));
    return { dir, name, path: join(dir, name) };
  }
}
