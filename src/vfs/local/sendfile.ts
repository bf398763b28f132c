/**
 * Zero-copy downloads through the native addon (native/sendfile.c, built
 * by `npm ci` where a compiler is present): sendfile(2) from the open
 * file straight into a plain TCP socket, an FTP data connection or a web
 * view response over HTTP. TLS sockets, other platforms and installs
 * without the addon use the JavaScript copy loop; `WHARF_SENDFILE=0`
 * forces it.
 *
 * The addon ends each call after a time budget with progress made, so
 * progress is counted and the socket's idle timeout re-armed as bytes
 * leave; closing or cancelling stops a call under way at once (the
 * addon's duplicate descriptor must not hold the connection open).
 */
import { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TLSSocket } from 'node:tls';
import { getSystemErrorName } from 'node:util';
import type { CopyHooks } from '../types.js';

interface Native {
  start(socketFd: number, fileFd: number, offset: number, length: number, budgetMs: number, done: (errno: number, sent: number) => void): number;
  cancel(token: number): boolean;
}

/** The most asked of one native call, and how long one may run once it has sent something. */
const MAX_CALL = 64 * 1024 * 1024;
const BUDGET_MS = 250;
const ECANCELED = 125;

function load(): Native | null {
  if (process.platform !== 'linux' || process.env.WHARF_SENDFILE === '0') return null;
  try {
    // dist/src/vfs/local/ -> the package root, where node-gyp builds.
    return createRequire(import.meta.url)('../../../../build/Release/wharf_sendfile.node') as Native;
  } catch {
    return null;
  }
}

const native = load();

/** True when downloads to plain sockets go through sendfile(2). */
export const zeroCopy = native !== null;

/** The plain TCP socket under `dest` (a socket, or an HTTP response), and its descriptor. */
function plainSocket(dest: Writable): { socket: Socket; fd: number } | null {
  const socket: unknown = dest instanceof ServerResponse ? dest.socket : dest;
  if (!(socket instanceof Socket) || socket instanceof TLSSocket || socket.destroyed) return null;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? { socket, fd } : null;
}

function premature(): Error {
  return Object.assign(new Error('transfer cancelled'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function errnoError(errno: number): Error {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`sendfile: ${code}`), { code, errno: -errno, syscall: 'sendfile' });
}

/** Resolves once everything written to the socket so far has reached the kernel. */
function flushed(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Sends bytes `start` to `end` of the file `fd` into `dest` and ends it,
 * as ReadHandle.copyTo does. Resolves false, having done nothing, when
 * `dest` is not a plain socket or the addon is missing.
 */
export async function sendFile(dest: Writable, fd: number, start: number, end: number, hooks: CopyHooks): Promise<boolean> {
  const target = native ? plainSocket(dest) : null;
  if (!native || !target) return false;
  const { socket } = target;
  let token = 0;
  let cancelled = false;
  const stop = () => {
    cancelled = true;
    if (token) native.cancel(token);
  };
  const off = hooks.onCancel(() => {
    stop();
    dest.destroy();
  });
  socket.once('close', stop);
  try {
    if (dest instanceof ServerResponse) dest.flushHeaders();
    await flushed(socket);
    let pos = start;
    while (pos < end) {
      const now = plainSocket(socket);
      if (cancelled || !now) throw premature();
      const [errno, sent] = await new Promise<[number, number]>((resolve) => {
        token = native.start(now.fd, fd, pos, Math.min(MAX_CALL, end - pos), BUDGET_MS, (e, n) => {
          token = 0;
          resolve([e, n]);
        });
      });
      if (sent > 0) {
        pos += sent;
        hooks.onChunk(sent);
        if (socket.timeout) socket.setTimeout(socket.timeout); // bytes left: not idle
      }
      if (errno === ECANCELED || cancelled) throw premature();
      if (errno !== 0) throw errnoError(errno);
      if (sent === 0) break; // the file shrank meanwhile
    }
    dest.end();
    await finished(dest, { readable: false });
  } finally {
    off();
    socket.off('close', stop);
  }
  return true;
}
