/**
 * The `node-http` floor: the least a Node web server does per download,
 * run as a child process (`node nodeHttpMain.js '<json>'`). node:http
 * (no delay, 5 s keep-alive, as Wharf's web view), each GET of a file
 * opened, fstat'ed and sent as Wharf sends it: the head on its own, then
 * the file with Wharf's own sendfile(2) addon under TCP_CORK; no
 * rules, events, logs, admission or validators; a directory URL gets a
 * bare autoindex (readdir + lstat per entry, each page made afresh, as
 * nginx's). Wharf ÷ node-http is what Wharf's own code costs on top of
 * Node's. Nothing here is used by Wharf.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import path from 'node:path';

interface Options {
  port: number;
  root: string;
  /** The built addon (build/Release/wharf_native.node). */
  addon: string;
}

interface Addon {
  start(socketFd: number, fileFd: number, offset: number, length: number, budgetMs: number, done: (errno: number, sent: number) => void): [number, number] | number;
  cork(socketFd: number, on: boolean): boolean;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const addon = createRequire(import.meta.url)(opts.addon) as Addon;

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The directory's entries as links, one per line. */
function autoindex(res: ServerResponse, dir: string, url: string): void {
  const rows = readdirSync(dir).map((name) => {
    const st = lstatSync(path.join(dir, name), { throwIfNoEntry: false });
    const slash = st?.isDirectory() ? '/' : '';
    return `<a href="${escape(encodeURIComponent(name))}${slash}">${escape(name)}${slash}</a> ${st?.mtime.toUTCString() ?? ''} ${st?.size ?? ''}\n`;
  });
  const body = `<html><head><title>Index of ${escape(url)}</title></head><body><pre>\n${rows.join('')}</pre></body></html>\n`;
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

/** Sends the open file `fd` of `size` bytes after the response head, then ends the response. */
function sendFile(res: ServerResponse, fd: number, size: number): void {
  const socket = res.socket as Socket;
  const out = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  const done = (errno: number) => {
    addon.cork(out, false);
    closeSync(fd);
    if (errno !== 0) res.destroy();
    else res.end();
  };
  res.flushHeaders();
  addon.cork(out, true);
  let pos = 0;
  const step = (): void => {
    const now = addon.start(out, fd, pos, size - pos, 250, (errno, sent) => progress(errno, sent));
    if (typeof now !== 'number') progress(now[0], now[1]);
  };
  const progress = (errno: number, sent: number): void => {
    pos += sent;
    if (errno !== 0 || pos >= size || sent === 0) return done(errno);
    step();
  };
  step();
}

const server = createServer({ noDelay: true, keepAliveTimeout: 5000 }, (req, res) => {
  const url = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
  const file = path.join(opts.root, path.normalize(url));
  if (!file.startsWith(opts.root)) return void res.writeHead(400).end();
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return void res.writeHead(404).end();
  }
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    closeSync(fd);
    return autoindex(res, file, url);
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size, 'Last-Modified': st.mtime.toUTCString() });
  if (req.method === 'HEAD' || st.size === 0) {
    closeSync(fd);
    return void res.end();
  }
  sendFile(res, fd, st.size);
});
server.listen(opts.port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
