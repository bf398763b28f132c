/**
 * The two SFTP packets Wharf sends that ssh2's server has no API for, both
 * written through ssh2 internals of the version in package-lock.json (the
 * SFTP tests fail loudly if those change):
 *
 * - the VERSION reply with Wharf's extensions. ssh2 answers INIT with a bare
 *   version 3 and no extensions; OpenSSH's `sftp` then never uses
 *   posix-rename@openssh.com (so `rename` could not replace a file) nor
 *   statvfs@openssh.com (`df`). That one reply is rewritten on its way out
 *   of the channel, and the channel's window charged for the extra bytes,
 *   so flow control stays exact;
 * - EXTENDED_REPLY (201), the answer to statvfs@openssh.com.
 */
import type { SFTPWrapper } from 'ssh2';

/** The extensions every channel advertises: name and version data (draft-ietf-secsh-filexfer-02 section 4.2). */
const ALWAYS: [string, string][] = [['posix-rename@openssh.com', '1']];
/** Advertised where the storage knows its space. */
export const STATVFS: [string, string] = ['statvfs@openssh.com', '2'];

/** ssh2's bare VERSION packet: length 5, SSH_FXP_VERSION (2), version 3. */
const BARE = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);

function versionPacket(extensions: [string, string][]): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, 0, 0, 3])];
  for (const [name, data] of extensions) {
    for (const text of [name, data]) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(Buffer.byteLength(text));
      parts.push(len, Buffer.from(text));
    }
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

const VERSIONS = new Map<boolean, Buffer>([
  [false, versionPacket(ALWAYS)],
  [true, versionPacket([...ALWAYS, STATVFS])],
]);

interface Internals {
  outgoing?: { id: number; window: number; state?: string; packetSize?: number };
  _protocol?: { channelData: (this: unknown, id: number, data: Buffer) => void };
  _buffer?: Buffer[];
}

/** Makes `sftp` (just accepted, before the client's INIT) advertise Wharf's extensions; statvfs when `statvfs`. */
export function advertiseExtensions(sftp: SFTPWrapper, statvfs: boolean): boolean {
  const VERSION = VERSIONS.get(statvfs) as Buffer;
  const inner = sftp as unknown as Internals;
  const protocol = inner._protocol;
  const outgoing = inner.outgoing;
  if (!protocol || !outgoing || typeof protocol.channelData !== 'function') return false;
  const original = protocol.channelData;
  protocol.channelData = function (this: unknown, id: number, data: Buffer) {
    if (id === outgoing.id && data.equals(BARE)) {
      protocol.channelData = original;
      outgoing.window = Math.max(0, outgoing.window - (VERSION.length - BARE.length));
      return original.call(this, id, VERSION);
    }
    return original.call(this, id, data);
  };
  return true;
}

/** statvfs(3) as statvfs@openssh.com sends it: eleven uint64 fields. */
export interface StatvfsReply {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  /** 1 read-only, 2 nosuid. */
  flag: number;
  namemax: number;
}

/** The EXTENDED_REPLY packet answering a statvfs@openssh.com request (pure). */
export function statvfsPacket(id: number, r: StatvfsReply): Buffer {
  const fields = [r.bsize, r.frsize, r.blocks, r.bfree, r.bavail, r.files, r.ffree, r.favail, r.fsid, r.flag, r.namemax];
  const buf = Buffer.alloc(4 + 1 + 4 + fields.length * 8);
  buf.writeUInt32BE(buf.length - 4, 0);
  buf[4] = 201;
  buf.writeUInt32BE(id, 5);
  fields.forEach((v, i) => buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))), 9 + i * 8));
  return buf;
}

/**
 * Sends a small packet on `sftp` as ssh2's own replies go: at once when
 * the window has room and nothing waits before it, else queued behind the
 * waiting replies. False when it could not be sent (the channel is closed,
 * or the window is too small with nothing queued to wake it).
 */
export function sendPacket(sftp: SFTPWrapper, packet: Buffer): boolean {
  const inner = sftp as unknown as Internals;
  const { _protocol: protocol, outgoing, _buffer: queue } = inner;
  if (!protocol || !outgoing || !queue || outgoing.state !== 'open') return false;
  if (queue.length > 0) {
    queue.push(packet);
    return true;
  }
  if (outgoing.window < packet.length || (outgoing.packetSize ?? Infinity) < packet.length) return false;
  outgoing.window -= packet.length;
  protocol.channelData(outgoing.id, packet);
  return true;
}
