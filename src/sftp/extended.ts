/**
 * SFTP's EXTENDED requests: posix-rename@openssh.com (rename that replaces
 * the target) and statvfs@openssh.com (the space of the storage, where the
 * backend knows it). Any other name gets OP_UNSUPPORTED.
 */
import type { SFTPWrapper } from 'ssh2';
import { SftpError, STATUS } from './attrs.js';
import type { SftpContext } from './context.js';
import * as requests from './requests.js';
import { sendPacket, statvfsPacket } from './wire.js';

/** Reads `n` SSH strings (uint32 length + bytes) from an extension's data. */
export function readStrings(data: Buffer, n: number): string[] {
  const out: string[] = [];
  let p = 0;
  for (let i = 0; i < n && p + 4 <= data.length; i++) {
    const len = data.readUInt32BE(p);
    if (p + 4 + len > data.length) throw new SftpError(STATUS.BAD_MESSAGE, 'malformed request');
    out.push(data.toString('utf8', p + 4, p + 4 + len));
    p += 4 + len;
  }
  if (out.length < n) throw new SftpError(STATUS.BAD_MESSAGE, 'malformed request');
  return out;
}

/**
 * Serves one EXTENDED request; resolves true when it sent its own reply
 * (statvfs), false when the caller answers OK.
 */
export async function extended(ctx: SftpContext, sftp: SFTPWrapper, id: number, name: string, data: Buffer): Promise<boolean> {
  if (name === 'posix-rename@openssh.com') {
    const [from, to] = readStrings(data, 2);
    await requests.rename(ctx, from ?? '', to ?? '', true);
    return false;
  }
  const vfs = ctx.account.vfs;
  if (name === 'statvfs@openssh.com' && vfs.space) {
    const [path] = readStrings(data, 1);
    const s = await vfs.space(requests.visible(ctx.account, path ?? '/'));
    // A read-only account sees a read-only file system, as a read-only mount would show it.
    const readOnly = s.readOnly || !ctx.account.access.allows('write', requests.resolve(path ?? '/'));
    const packet = statvfsPacket(id, {
      bsize: s.blockSize,
      frsize: s.blockSize,
      blocks: s.blocks,
      bfree: s.free,
      bavail: s.available,
      files: s.files,
      ffree: s.freeFiles,
      favail: s.freeFiles,
      fsid: 0,
      flag: (readOnly ? 1 : 0) | 2,
      namemax: s.nameMax,
    });
    if (!sendPacket(sftp, packet)) throw new SftpError(STATUS.FAILURE, 'busy: try again');
    return true;
  }
  throw new SftpError(STATUS.OP_UNSUPPORTED, `${name.slice(0, 40)} is not supported`);
}
