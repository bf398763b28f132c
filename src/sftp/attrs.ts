/**
 * SFTP v3 (draft-ietf-secsh-filexfer-02) encodings of what the Vfs says:
 * attributes, `ls -l` long names, and the status code for each failure.
 * The packet layer itself is ssh2's.
 */
import type { Attributes } from 'ssh2';
import { UnixLineFormatter } from '../protocol/listing/unix.js';
import { BadPathError } from '../vfs/path.js';
import { VfsError, VfsNoticeError } from '../vfs/errors.js';
import type { VfsStat } from '../vfs/types.js';

/** SSH_FX_* status codes (section 7). */
export const STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;

/** SSH_FXF_* open flags (section 6.3). */
export const OPEN = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

const TYPE_BITS: Record<VfsStat['type'], number> = { dir: 0o040000, file: 0o100000, link: 0o120000, other: 0o100000 };

/** The attributes of an entry. */
export function toAttrs(st: VfsStat): Attributes {
  const seconds = Math.floor(st.mtime.getTime() / 1000);
  return { mode: TYPE_BITS[st.type] | (st.mode & 0o7777), uid: 0, gid: 0, size: st.size, atime: seconds, mtime: seconds };
}

/** A directory listing's name entries, with `ls -l` long names as OpenSSH's server gives. */
export function toNames(entries: VfsStat[], fmt = new UnixLineFormatter()): { filename: string; longname: string; attrs: Attributes }[] {
  return entries.map((e) => ({ filename: e.name, longname: fmt.format(e), attrs: toAttrs(e) }));
}

/** A failure the client may be told about. */
export class SftpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SftpError';
  }
}

/** Refused by the account's rights. */
export const denied = (what = 'permission denied'): SftpError => new SftpError(STATUS.PERMISSION_DENIED, what);

/** The status and message for any error a handler throws; never a host path or a stack. */
export function toStatus(err: unknown): { code: number; message: string } {
  if (err instanceof SftpError) return { code: err.status, message: err.message };
  if (err instanceof BadPathError) return { code: STATUS.NO_SUCH_FILE, message: `invalid file name: ${err.message}` };
  if (!(err instanceof VfsError)) return { code: STATUS.FAILURE, message: 'failure' };
  // Written for the client (e.g. how far a directory rename on object storage got).
  if (err instanceof VfsNoticeError) return { code: err.code === 'not-found' ? STATUS.NO_SUCH_FILE : STATUS.FAILURE, message: err.message };
  switch (err.code) {
    case 'not-found':
      return { code: STATUS.NO_SUCH_FILE, message: 'no such file or directory' };
    case 'denied':
      return { code: STATUS.PERMISSION_DENIED, message: 'permission denied' };
    case 'unsupported':
      return { code: STATUS.OP_UNSUPPORTED, message: 'not supported by this server' };
    case 'exists':
      return { code: STATUS.FAILURE, message: 'file exists' };
    case 'not-empty':
      return { code: STATUS.FAILURE, message: 'directory not empty' };
    case 'is-dir':
      return { code: STATUS.FAILURE, message: 'is a directory' };
    case 'not-dir':
      return { code: STATUS.FAILURE, message: 'not a directory' };
    case 'no-space':
      return { code: STATUS.FAILURE, message: 'no space left on the server' };
    case 'bad-offset':
      return { code: STATUS.FAILURE, message: 'offset beyond the end of the file' };
    default:
      return { code: STATUS.FAILURE, message: 'failure' };
  }
}
