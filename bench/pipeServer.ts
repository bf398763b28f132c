/**
 * The "minimal Node server" ceiling, run as a child process: on each
 * connection it waits for one byte from the client, then pipes a file into
 * the socket with a read stream of the given chunk size (plain TCP or TLS),
 * and closes. `node pipeServer.js '<json>'`; prints "ready" when listening.
 */
import { createReadStream, readFileSync } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';

interface Options {
  mode: 'tcp' | 'tls';
  file: string;
  chunk: number;
  port: number;
  cert: string;
  key: string;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;

/** Streams the file into the socket after the client's go byte. */
function serve(socket: net.Socket): void {
  socket.on('error', () => undefined);
  socket.once('data', () => {
    pipeline(createReadStream(opts.file, { highWaterMark: opts.chunk }), socket).catch(() => socket.destroy());
  });
}

const server = opts.mode === 'tls' ? tls.createServer({ cert: readFileSync(opts.cert), key: readFileSync(opts.key) }, serve) : net.createServer(serve);
server.listen(opts.port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
