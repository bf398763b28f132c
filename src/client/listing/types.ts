/** Shared types of the listing parsers. */

/** What kind of entry a listing line describes. */
export type FileType = 'file' | 'directory' | 'symlink' | 'unknown';

/** One entry of a directory listing, whatever format it came from. */
export interface FileInfo {
  /** The entry's name (never a path, never `.` or `..`). */
  name: string;
  type: FileType;
  /** Size in bytes, when the listing tells. */
  size: number | undefined;
  /** Last modification time, when the listing tells (UTC unless the server lies). */
  modifiedAt: Date | undefined;
  /** Unix permission string such as `rwxr-xr-x`, or MLSD `perm` facts. */
  permissions: string | undefined;
  /** Symlink target, from Unix listings (`name -> target`). */
  target: string | undefined;
  /** The line as received. */
  raw: string;
}

/** Builds a FileInfo with defaults for the unknown fields. */
export function makeInfo(partial: Partial<FileInfo> & { name: string; raw: string }): FileInfo {
  return {
    type: 'unknown',
    size: undefined,
    modifiedAt: undefined,
    permissions: undefined,
    target: undefined,
    ...partial,
  };
}
