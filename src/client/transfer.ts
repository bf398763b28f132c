/**
 * The life of one transfer over a data connection: negotiate the channel,
 * send the command, check the preliminary reply, move the bytes and wait for
 * the final reply. A transfer succeeds only when both the data stream ended
 * cleanly and the server confirmed it; otherwise it throws.
 */
import type net from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import type { ControlConnection } from './control.js';
import { prepareData, type DataMemory, type DataSettings } from './data.js';
import { FtpAbortError, FtpClientError, FtpProtocolError, FtpReplyError, FtpTimeoutError } from './errors.js';
import { replyKind, type FtpReply } from './reply.js';

/** Progress of one transfer, as reported to listeners. */
export interface TransferProgress {
  /** Remote path of the file (or directory for listings). */
  name: string;
  /** `download`, `upload` or `list`. */
  type: 'download' | 'upload' | 'list';
  /** Bytes moved so far in this transfer (not counting a resume offset). */
  bytes: number;
  /** Total bytes expected for this transfer, when known. */
  total: number | undefined;
  /** Offset the transfer started from (REST), 0 for a whole file. */
  offset: number;
  /** Average rate in bytes per second since the transfer started. */
  rate: number;
  /** Milliseconds since the transfer started. */
  elapsed: number;
  /** True for the last event of a finished transfer. */
  done: boolean;
}

/** What a transfer needs from its client. */
export interface TransferContext {
  ctrl: ControlConnection;
  settings: DataSettings;
  memory: DataMemory;
  /** Reply timeout in milliseconds. */
  timeout: number;
}

/** Result of {@link runTransfer}: the final reply. */
export interface TransferResult {
  reply: FtpReply;
}

/**
 * Runs `command` over a new data connection. `io` receives the ready socket
 * and must resolve once all bytes are moved (and the socket ended, for
 * uploads). When `io` fails, the data connection is destroyed, the server's
 * final reply is still consumed so the dialogue stays in step, and the I/O
 * error is thrown.
 */
export async function runTransfer(ctx: TransferContext, command: string, io: (socket: net.Socket) => Promise<void>): Promise<TransferResult> {
  const { ctrl, settings } = ctx;
  const pending = await prepareData(ctrl, settings, ctx.memory);
  let socket: net.Socket | undefined;
  try {
    const first = await ctrl.command(command, ctx.timeout, settings.signal);
    if (!replyKind.preliminary(first.code)) {
      throw replyKind.negative(first.code)
        ? new FtpReplyError(first.code, first.message, command)
        : new FtpProtocolError(`unexpected reply to ${command}: ${first.code} ${first.message}`);
    }
    // The final reply may arrive at any time (e.g. 425 if the server cannot connect).
    const final = ctrl.read(0).then(
      (r) => ({ reply: r }),
      (e: unknown) => ({ error: e as Error }),
    );
    const openP = pending.open().then(
      (s) => ({ socket: s }),
      (e: unknown) => ({ openError: e as Error }),
    );
    const raced = await Promise.race([openP, final.then((f) => ({ early: f }))]);
    let opened: { socket: net.Socket } | { openError: Error };
    if ('early' in raced) {
      const f = raced.early;
      if ('error' in f) throw f.error;
      if (!replyKind.completion(f.reply.code)) throw new FtpReplyError(f.reply.code, f.reply.message, command);
      // A fast server may finish (226) before we have seen its connection: the data is still there.
      opened = await openP;
    } else {
      opened = raced;
    }
    if ('openError' in opened) {
      await settle(ctx, final);
      throw opened.openError;
    }
    socket = opened.socket;
    socket.setTimeout(settings.timeout, () => socket?.destroy(new FtpTimeoutError('data connection stalled')));
    let ioError: Error | undefined;
    try {
      await withSignal(io(socket), settings.signal, () => socket?.destroy());
    } catch (err) {
      ioError = err as Error;
      socket.destroy();
    }
    const f = await settle(ctx, final);
    if (ioError) throw ioError;
    if ('error' in f) throw f.error;
    if (!replyKind.completion(f.reply.code)) throw new FtpReplyError(f.reply.code, f.reply.message, command);
    return { reply: f.reply };
  } finally {
    pending.dispose();
    socket?.destroy();
  }
}

/** Waits for the final reply for at most the reply timeout; on expiry the connection is closed. */
async function settle(ctx: TransferContext, final: Promise<{ reply: FtpReply } | { error: Error }>): Promise<{ reply: FtpReply } | { error: Error }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ error: Error }>((resolve) => {
    timer = setTimeout(() => {
      const error = new FtpTimeoutError('no final reply after the transfer');
      ctx.ctrl.close(error);
      resolve({ error });
    }, ctx.timeout);
  });
  try {
    return await Promise.race([final, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    onAbort();
    return Promise.reject(new FtpAbortError('operation aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(new FtpAbortError('operation aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
    // Once the promise settles the listener is removed, then its outcome is passed on unchanged (a rejection reason need not be an Error).
    const detach = (): void => signal.removeEventListener('abort', abort);
    promise.then(detach, detach);
    promise.then(resolve, reject);
  });
}

/**
 * A pass-through stream that counts bytes and reports progress at most every
 * `intervalMs`, plus a final event from {@link ProgressCounter.finish}.
 */
export class ProgressCounter extends Transform {
  /** Bytes seen so far. */
  bytes = 0;
  private readonly started = Date.now();
  private lastEmit = 0;

  constructor(
    private readonly base: Omit<TransferProgress, 'bytes' | 'rate' | 'elapsed' | 'done'>,
    private readonly report: ((p: TransferProgress) => void) | undefined,
    private readonly intervalMs = 100,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    const now = Date.now();
    if (this.report && now - this.lastEmit >= this.intervalMs) {
      this.lastEmit = now;
      this.report(this.snapshot(false));
    }
    cb(null, chunk);
  }

  /** The current progress. */
  snapshot(done: boolean): TransferProgress {
    const elapsed = Date.now() - this.started;
    return { ...this.base, bytes: this.bytes, rate: elapsed > 0 ? (this.bytes * 1000) / elapsed : 0, elapsed, done };
  }

  /** Emits the final progress event. */
  finish(): TransferProgress {
    const p = this.snapshot(true);
    this.report?.(p);
    return p;
  }
}

/** Makes an error from anything thrown. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new FtpClientError(String(err));
}
