/** Stream helpers used by transfers, and two conveniences for callers. */
import type net from 'node:net';
import { PassThrough, Readable, Transform } from 'node:stream';
import { FtpClientError } from './errors.js';
import { AsciiDecoder, AsciiEncoder } from '../protocol/typeA.js';

/** Resolves when a socket has closed cleanly; rejects if it closed on an error. */
export function closed(socket: net.Socket): Promise<void> {
  if (socket.destroyed || socket.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('close', (hadError) => (hadError ? reject(new FtpClientError('data connection failed')) : resolve()));
    socket.once('error', reject);
  });
}

/** ASCII-type download: CRLF line endings to LF (the protocol core's {@link AsciiDecoder} as a stream). */
export function crlfToLf(): Transform {
  const decoder = new AsciiDecoder();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, decoder.decode(chunk));
    },
    flush(cb) {
      const rest = decoder.end();
      cb(null, rest.length > 0 ? rest : null);
    },
  });
}

/** ASCII-type upload: LF line endings to CRLF (the protocol core's {@link AsciiEncoder} as a stream). */
export function lfToCrlf(): Transform {
  const encoder = new AsciiEncoder();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, encoder.encode(chunk));
    },
  });
}

/** Creates a readable stream from a buffer or string (handy for uploads). */
export function fromBuffer(data: Buffer | string): Readable {
  return Readable.from([typeof data === 'string' ? Buffer.from(data) : data]);
}

/** A writable stream collecting everything into memory; read it with `.data()`. */
export function toBuffer(): PassThrough & { data(): Buffer } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough() as PassThrough & { data(): Buffer };
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.data = () => Buffer.concat(chunks);
  return stream;
}
