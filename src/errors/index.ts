/**
 * Maps failures to FTP replies without leaking host paths, errno strings or
 * stacks (RFC 959 section 4.2: 450, 451, 452, 550, 552, 553).
 */
import { BadPathError } from '../vfs/path.js';
import { VfsError, VfsNoticeError } from '../vfs/errors.js';
import { reply, type Reply } from '../protocol/reply.js';

/** A failure a handler raises on purpose, carrying its reply. */
export class FtpReplyError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'FtpReplyError';
  }
}

/** The reply for any error a handler throws; `what` names the object. */
export function toReply(err: unknown, what = 'File'): Reply {
  if (err instanceof FtpReplyError) return reply(err.code, err.message);
  if (err instanceof BadPathError) return reply(553, `Invalid file name: ${err.message}.`);
  if (err instanceof VfsError) return vfsReply(err, what);
  return reply(451, 'Local error in processing.');
}

/** The reply for a storage failure. A VfsNoticeError's text is written for the client (e.g. how far a rename got). */
function vfsReply(err: VfsError, what: string): Reply {
  if (err instanceof VfsNoticeError) return reply(err.code === 'io' ? 451 : 550, `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`);
  switch (err.code) {
    case 'not-found':
      return reply(550, `${what} not found.`);
    case 'exists':
      return reply(550, `${what} already exists.`);
    case 'not-dir':
      return reply(550, 'Not a directory.');
    case 'is-dir':
      return reply(550, 'Is a directory.');
    case 'not-empty':
      return reply(550, 'Directory not empty.');
    case 'denied':
      return reply(550, 'Permission denied.');
    case 'no-space':
      return reply(452, 'Insufficient storage space.');
    case 'bad-offset':
      return reply(554, 'Restart offset is beyond the end of the file.');
    case 'unsupported':
      return reply(502, 'Not supported by this storage.');
    case 'io':
      return reply(451, 'Local error in processing.');
  }
}
