/** Errors of the file system layer, with stable codes that map to replies. */

/** Stable kinds of file system failure. */
export type VfsErrorCode =
  | 'not-found'
  | 'exists'
  | 'not-dir'
  | 'is-dir'
  | 'not-empty'
  | 'denied'
  | 'no-space'
  | 'bad-offset'
  /** The backend does not offer this operation (see VfsCapabilities). */
  | 'unsupported'
  | 'io';

/** A file system failure, safe to describe to a client (no host paths). */
export class VfsError extends Error {
  constructor(
    readonly code: VfsErrorCode,
    message?: string,
    override readonly cause?: unknown,
  ) {
    super(message ?? code);
    this.name = 'VfsError';
  }
}

/** Maps a Node errno error to a VfsError. */
export function fromErrno(err: unknown): VfsError {
  if (err instanceof VfsError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ELOOP':
      return new VfsError('not-found', undefined, err);
    case 'EEXIST':
      return new VfsError('exists', undefined, err);
    case 'ENOTDIR':
      return new VfsError('not-dir', undefined, err);
    case 'EISDIR':
      return new VfsError('is-dir', undefined, err);
    case 'ENOTEMPTY':
      return new VfsError('not-empty', undefined, err);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new VfsError('denied', undefined, err);
    case 'ENOSPC':
    case 'EDQUOT':
      return new VfsError('no-space', undefined, err);
    default:
      return new VfsError('io', undefined, err);
  }
}

/**
 * A VfsError whose message is written for the client and shown as it is
 * (still naming no path), e.g. how far a directory rename on object
 * storage got before it failed.
 */
export class VfsNoticeError extends VfsError {
  constructor(code: VfsErrorCode, message: string, cause?: unknown) {
    super(code, message, cause);
    this.name = 'VfsNoticeError';
  }
}
