/**
 * Zero-copy downloads through the native addon (native/sendfile.c, see
 * native.ts): sendfile(2) from the open
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
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TLSSocket } from 'node:tls';
import { getSystemErrorName } from 'node:util';
import type { CopyHooks } from '../types.js';
import { nativeAddon, type NativeAddon } from './native.js';

/** What a send ended with: 0 or the errno, and the bytes sent. */
type Outcome = [errno: number, sent: number];

type Native = Pick<NativeAddon, 'start' | 'cork' | 'cancel'>;

/** The most asked of one native call, and how long one may run once it has sent something. */
const MAX_CALL = 64 * 1024 * 1024;
const BUDGET_MS = 250;
const ECANCELED = 125;
/** Up to this size a download is one segment or so: no corking. */
const SMALL = 64 * 1024;

const native: Native | null = process.env.WHARF_SENDFILE === '0' ? null : nativeAddon;

/** True when downloads to plain sockets go through sendfile(2). */
export const zeroCopy = native !== null;

/** The plain TCP socket under `dest` (a socket, or an HTTP response), and its descriptor. */
function plainSocket(dest: Writable): { socket: Socket; fd: number } | null {
  const socket: unknown = dest instanceof ServerResponse ? dest.socket : dest;
  if (!(socket instanceof Socket) || socket instanceof TLSSocket || socket.destroyed) return null;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? { socket, fd } : null;
}

/** Uncorks the socket if it is still open (sends its last partial segment). */
function uncork(socket: Socket): void {
  const target = plainSocket(socket);
  if (target) native?.cork(target.fd, false);
}

/** The error of a download cancelled by ABOR, a timeout or the socket closing (what a stream's premature close gives). */
export function premature(): Error {
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

/** One download's sends, and how to stop the one under way. */
class Sender {
  private token = 0;
  private stopped = false;

  constructor(
    private readonly addon: Native,
    private readonly socket: Socket,
    private readonly fd: number,
  ) {}

  /** Ends the send under way at once (ECANCELED) and refuses further ones. */
  readonly stop = (): void => {
    this.stopped = true;
    if (this.token) this.addon.cancel(this.token);
  };

  /** Sends bytes `start` to `end`, counting them as they leave. */
  async run(start: number, end: number, onChunk: (n: number) => void): Promise<void> {
    let pos = start;
    while (pos < end) {
      const [errno, sent] = await this.some(pos, Math.min(MAX_CALL, end - pos));
      if (sent > 0) {
        pos += sent;
        onChunk(sent);
        if (this.socket.timeout) this.socket.setTimeout(this.socket.timeout); // bytes left: not idle
      }
      if (errno === ECANCELED || this.stopped) throw premature();
      if (errno !== 0) throw errnoError(errno);
      if (sent === 0) break; // the file shrank meanwhile
    }
  }

  /** One native send: its outcome at once, or once the event loop has finished it. */
  private some(pos: number, length: number): Outcome | Promise<Outcome> {
    const target = plainSocket(this.socket);
    if (this.stopped || !target) throw premature();
    let settle: (outcome: Outcome) => void = () => undefined;
    const now = this.addon.start(target.fd, this.fd, pos, length, BUDGET_MS, (errno, sent) => {
      this.token = 0;
      settle([errno, sent]);
    });
    if (typeof now !== 'number') return now;
    this.token = now;
    // The callback comes from the event loop, after this promise exists.
    return new Promise<Outcome>((resolve) => (settle = resolve));
  }
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
  const sender = new Sender(native, socket, fd);
  const off = hooks.onCancel(() => {
    sender.stop();
    dest.destroy();
  });
  socket.once('close', sender.stop);
  let corked = false;
  // Before the end, so the last partial segment leaves now; on failure, if still open.
  const release = () => {
    if (corked) uncork(socket);
    corked = false;
  };
  try {
    if (dest instanceof ServerResponse) dest.flushHeaders();
    if (socket.writableLength > 0 || socket.writableCorked) await flushed(socket);
    // The head of a response leaves on its own, then the file corked, in whole segments (nginx's tcp_nopush).
    // Corking the head with the file was 4-6% slower for clients in paired runs (100 × 10 MiB, 1 GiB with curl);
    // the likely cause (not proven): the file's bytes then start mid-segment, off their page alignment.
    corked = end - start > SMALL && native.cork(target.fd, true);
    await sender.run(start, end, (n) => hooks.onChunk(n));
    release();
    dest.end();
    await finished(dest, { readable: false });
  } finally {
    off();
    socket.off('close', sender.stop);
    release();
  }
  return true;
}
