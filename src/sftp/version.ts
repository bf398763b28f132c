/**
 * The SFTP VERSION reply with the extensions Wharf offers. ssh2's server
 * answers INIT with a bare version 3 and no extensions; OpenSSH's `sftp`
 * then never uses posix-rename@openssh.com, so `rename` could not replace
 * a file. This rewrites that one reply on its way out of the channel (and
 * charges the channel's window for the extra bytes, so flow control stays
 * exact). It depends on ssh2 internals of the version in package-lock.json;
 * the SFTP tests fail loudly if they change.
 */
import type { SFTPWrapper } from 'ssh2';

/** The extensions advertised: name and version data (draft-ietf-secsh-filexfer-02 section 4.2). */
const EXTENSIONS: [string, string][] = [['posix-rename@openssh.com', '1']];

/** ssh2's bare VERSION packet: length 5, SSH_FXP_VERSION (2), version 3. */
const BARE = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);

function versionPacket(): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, 0, 0, 3])];
  for (const [name, data] of EXTENSIONS) {
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

const VERSION = versionPacket();

interface Internals {
  outgoing?: { id: number; window: number };
  _protocol?: { channelData: (this: unknown, id: number, data: Buffer) => void };
}

/** Makes `sftp` (just accepted, before the client's INIT) advertise Wharf's extensions. */
export function advertiseExtensions(sftp: SFTPWrapper): boolean {
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
