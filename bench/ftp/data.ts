/**
 * Data connections of the load generator: EPSV (PASV as a fallback), then a
 * download that reads plain sockets straight into one shared 1 MiB buffer
 * (`onread`: large reads, no allocation per chunk), or an upload that writes
 * one preallocated 1 MiB buffer over and over with backpressure. With PROT P
 * the data socket is wrapped in TLS resuming the control session.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { type Control, FtpError } from './control.js';

/** Shared by every plain data socket: each read is consumed synchronously. */
const READ_BUFFER = Buffer.allocUnsafe(1 << 20);

/** Size of each upload write. */
const WRITE_CHUNK = 1 << 20;

let uploadBuffer: Buffer | null = null;

/** One MiB of fixed pseudo-random bytes (so nothing along the way can compress it). */
function uploadChunk(): Buffer {
  if (uploadBuffer) return uploadBuffer;
  const b = Buffer.allocUnsafe(WRITE_CHUNK);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  uploadBuffer = b;
  return b;
}

/** What a transfer measured. */
export interface TransferResult {
  bytes: number;
  /** Newlines seen (listings only). */
  lines: number;
  /** From sending the command to both the data EOF and the final reply. */
  seconds: number;
  /** The final reply, e.g. `226 Transfer complete` (downloads only). */
  reply?: string;
}

/** Asks for a passive port: EPSV, or PASV if the server refuses EPSV. */
export async function passivePort(ctrl: Control): Promise<number> {
  const r = await ctrl.cmd('EPSV');
  if (r.code === 229) {
    const m = /\(\|\|\|(\d+)\|\)/.exec(r.text);
    if (m) return Number(m[1]);
  }
  const p = await ctrl.expect('PASV', 227);
  const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(p.text);
  if (!m) throw new FtpError(`bad PASV reply: ${p.text}`);
  return Number(m[5]) * 256 + Number(m[6]);
}

function countNewlines(buf: Uint8Array, n: number): number {
  let count = 0;
  const view = Buffer.from(buf.buffer, buf.byteOffset, n);
  for (let i = view.indexOf(10); i >= 0 && i < n; i = view.indexOf(10, i + 1)) count++;
  return count;
}

function waitEvent(stream: Duplex, event: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      clearTimeout(timer);
      stream.off(event, onEvent);
      stream.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onEvent = () => settle();
    const onError = (e: Error) => settle(e);
    const timer = setTimeout(() => {
      stream.destroy();
      settle(new FtpError(`${what}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on(event, onEvent);
    stream.on('error', onError);
  });
}

/** Opens the TCP data connection (and waits until it is connected). */
async function connectRaw(ctrl: Control, port: number, onread?: (n: number, buf: Uint8Array) => void): Promise<net.Socket> {
  const socket = onread
    ? net.connect({ host: ctrl.host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (n, buf) => (onread(n, buf), true) } })
    : net.connect({ host: ctrl.host, port, noDelay: true });
  await waitEvent(socket, 'connect', ctrl.opts.timeoutMs, 'data connect');
  return socket;
}

/** Wraps a data socket in TLS resuming the control connection's session. */
function secureData(ctrl: Control, raw: net.Socket): tls.TLSSocket {
  // `onread` would save copies, but Node ignores it when wrapping an existing socket.
  return tls.connect({ socket: raw, session: ctrl.tlsSession, rejectUnauthorized: false });
}

/** Throws unless a preliminary reply is 1xx. */
function checkPreliminary(r: { code: number; text: string }, command: string): void {
  if (Math.floor(r.code / 100) !== 1) throw new FtpError(`${command.split(' ')[0]}: ${r.code} ${r.text}`, r.code);
}

/**
 * Runs a download command (RETR, LIST, MLSD, NLST) and reads all of its
 * data; `countLines` counts newlines (for listings). With PROT P the TLS
 * handshake starts after the preliminary reply, as curl does (pyftpdlib
 * drops a data connection whose handshake comes before the command).
 */
export async function download(ctrl: Control, command: string, countLines = false, timeoutMs = 120_000): Promise<TransferResult> {
  const port = await passivePort(ctrl);
  let bytes = 0;
  let lines = 0;
  const verb = command.split(' ')[0] ?? command;
  const onread = (n: number, buf: Uint8Array) => {
    bytes += n;
    if (countLines) lines += countNewlines(buf, n);
  };
  const raw = await connectRaw(ctrl, port, ctrl.secure ? undefined : onread);
  let stream: Duplex = raw;
  let eof: Promise<void> | null = null;
  const secure = () => {
    stream = secureData(ctrl, raw);
    stream.on('data', (chunk: Buffer) => onread(chunk.length, chunk));
    eof = waitEvent(stream, 'close', timeoutMs, verb);
    eof.catch(() => undefined);
  };
  const started = performance.now();
  let reply = '';
  try {
    if (!ctrl.secure) eof = waitEvent(raw, 'close', timeoutMs, verb);
    else if (ctrl.earlyDataTls) secure();
    eof?.catch(() => undefined);
    ctrl.send(command);
    checkPreliminary(await ctrl.next(), command);
    if (ctrl.secure && !ctrl.earlyDataTls) secure();
    await eof;
    const final = await ctrl.next(timeoutMs);
    if (Math.floor(final.code / 100) !== 2) throw new FtpError(`${command}: ${final.code} ${final.text}`, final.code);
    reply = `${final.code} ${final.text}`;
  } finally {
    stream.destroy();
    raw.destroy();
  }
  return { bytes, lines, seconds: (performance.now() - started) / 1000, reply };
}

/** Writes `total` bytes to a stream in 1 MiB writes, honouring backpressure. */
async function writeAll(stream: Duplex, total: number, timeoutMs: number): Promise<void> {
  const chunk = uploadChunk();
  let left = total;
  for (let guard = 0; left > 0 && guard < 10_000_000; guard++) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= piece.length;
    if (!stream.write(piece)) await waitEvent(stream, 'drain', timeoutMs, 'upload drain');
  }
  stream.end();
  await waitEvent(stream, 'finish', timeoutMs, 'upload finish');
}

/** Runs an upload command (STOR) sending `total` bytes. */
export async function upload(ctrl: Control, command: string, total: number, timeoutMs = 120_000): Promise<TransferResult> {
  const port = await passivePort(ctrl);
  const raw = await connectRaw(ctrl, port);
  raw.on('error', () => undefined);
  let stream: Duplex = raw;
  const started = performance.now();
  const secure = () => {
    stream = secureData(ctrl, raw);
    stream.on('error', () => undefined);
  };
  try {
    if (ctrl.secure && ctrl.earlyDataTls) secure();
    ctrl.send(command);
    checkPreliminary(await ctrl.next(), command);
    if (ctrl.secure && !ctrl.earlyDataTls) secure();
    await writeAll(stream, total, timeoutMs);
    const final = await ctrl.next(timeoutMs);
    if (Math.floor(final.code / 100) !== 2) throw new FtpError(`${command}: ${final.code} ${final.text}`, final.code);
  } finally {
    stream.destroy();
    raw.destroy();
  }
  return { bytes: total, lines: 0, seconds: (performance.now() - started) / 1000 };
}
