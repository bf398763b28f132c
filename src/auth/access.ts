/**
 * What a logged-in account may do where. Users get their configured
 * permissions everywhere in their home; anonymous gets list and read in
 * its root, and in the drop box only the creation of new files.
 */
import type { Permission } from '../config/schema.js';
import { isWithin, parentOf } from '../vfs/path.js';

/** The access rules of one account. */
export interface Access {
  /** True when `perm` is granted on the virtual path `path`. */
  allows(perm: Permission, path: string): boolean;
  /** True when writes at `path` may only create new files (no overwrite, append or resume). */
  createOnly(path: string): boolean;
  /** True when every entry directly in `dir` has the same rights (so listings can compute them once). */
  uniformIn(dir: string): boolean;
}

/** Access from a fixed permission set. */
export function userAccess(perms: ReadonlySet<Permission>): Access {
  return { allows: (perm) => perms.has(perm), createOnly: () => false, uniformIn: () => true };
}

/** Anonymous access: read-only, plus an optional write-only drop box. */
export function anonymousAccess(uploadDir: string | undefined): Access {
  const inDrop = (path: string) => uploadDir !== undefined && isWithin(path, uploadDir) && path !== uploadDir;
  return {
    allows(perm, path) {
      if (uploadDir !== undefined && isWithin(path, uploadDir)) {
        // The drop box itself and everything in it: store new files only.
        return perm === 'write' && inDrop(path);
      }
      return perm === 'list' || perm === 'read';
    },
    createOnly: (path) => inDrop(path),
    // Only the drop box itself differs from its siblings.
    uniformIn: (dir) => uploadDir === undefined || parentOf(uploadDir) !== dir,
  };
}

/** RFC 3659 `perm` fact letters for an entry, from the account's rights. */
export function permFact(access: Access, path: string, type: 'file' | 'dir' | 'link' | 'other'): string {
  let p = '';
  if (type === 'dir') {
    if (access.allows('write', path + '/x')) p += 'c';
    if (access.allows('delete', path + '/x')) p += 'd';
    p += 'e';
    if (access.allows('rename', path)) p += 'f';
    if (access.allows('list', path)) p += 'l';
    if (access.allows('mkdir', path + '/x')) p += 'm';
    if (access.allows('delete', path + '/x') && access.allows('rmdir', path)) p += 'p';
  } else {
    if (access.allows('append', path)) p += 'a';
    if (access.allows('delete', path)) p += 'd';
    if (access.allows('rename', path)) p += 'f';
    if (access.allows('read', path)) p += 'r';
    if (access.allows('write', path) && !access.createOnly(path)) p += 'w';
  }
  return p;
}
