/**
 * What a root or a home in the config may name: a local directory, a
 * storage URL (`memory:`, `s3://BUCKET/PREFIX`), or, from the library, a
 * Vfs object.
 */
import type { Vfs } from '../vfs/types.js';
import { parseS3Url } from '../vfs/s3/location.js';

/** A root or home as configured. */
export type StorageSpec = string | Vfs;

/** The kinds of storage a string spec may name. */
export type StorageScheme = 'local' | 'memory' | 's3' | 'unknown';

/** True for a Vfs object (a library user's own storage). */
export function isStorageObject(spec: unknown): spec is Vfs {
  if (typeof spec !== 'object' || spec === null) return false;
  const v = spec as Partial<Vfs>;
  return typeof v.stat === 'function' && typeof v.list === 'function' && typeof v.read === 'function' && typeof v.write === 'function';
}

/** Which backend a string spec names (a plain path is local). */
export function storageScheme(spec: string): StorageScheme {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(spec);
  if (!m) return 'local';
  const scheme = (m[1] as string).toLowerCase();
  if (scheme === 'memory') return 'memory';
  if (scheme === 's3') return 's3';
  return 'unknown';
}

/** A problem with a storage string, or null when it can be used. */
export function storageProblem(spec: string): string | null {
  switch (storageScheme(spec)) {
    case 'local':
    case 'memory':
      return null;
    case 's3': {
      // Whether [storage.s3] is there is checked with the whole config (schema.ts).
      const location = parseS3Url(spec);
      return typeof location === 'string' ? location : null;
    }
    default:
      return `"${spec.slice(0, 40)}" is neither a directory nor a storage URL Wharf knows (memory:, s3://BUCKET/PREFIX)`;
  }
}

/** True when the spec is a directory on this machine. */
export function isLocalSpec(spec: StorageSpec): spec is string {
  return typeof spec === 'string' && storageScheme(spec) === 'local';
}
