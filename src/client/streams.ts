/** Stream helpers used by transfers, and two conveniences for callers. */
import type net from 'node:net';
import { PassThrough, Readable, Transform } from 'node:stream';
import { FtpClientError } from './errors.js';

/** Resolves when a socket has closed cleanly; rejects if it closed on an error. */
export function closed(socket: net.Socket): Promise<void> {
  if (socket.destroyed || socket.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('close', (hadError) => (hadError ? reject(new FtpClientError('data connection failed')) : resolve()));
    socket.once('error', reject);
  });
}

/** ASCII-type download: CRLF line endings to LF. */
export function crlfToLf(): Transform {
  let pendingCr = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let text = (pendingCr ? '\r' : '') + chunk.toString('latin1');
      pendingCr = text.endsWith('\r');
      if (pendingCr) text = text.slice(0, -1);
      cb(null, Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1'));
    },
    flush(cb) { cb(null, pendingCr ? Buffer.from('\r') : null); },
  });
}

/** ASCII-type upload: LF line endings to CRLF. */
export function lfToCrlf(): Transform {
  let lastCr = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('latin1');
      let out = '';
      for (const ch of text) {
        if (ch === '\n' && !lastCr) out += '\r';
        out += ch;
        lastCr = ch === '\r';
      }
      cb(null, Buffer.from(out, 'latin1'));
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
