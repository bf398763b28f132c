/**
 * Helpers for the web view tests: a test server with `[http]` on port 0,
 * curl with the usual limits, and TCP connections held open to fill the
 * connection caps.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { startServer, type TestServer } from './server.js';
import { run, tempDir, type RunOptions, type RunResult } from './clients.js';
import { waitForEvent } from './events.js';

/** A running server with the web view, and a scratch directory. */
export interface WebServer {
  srv: TestServer;
  port: number;
  /** `http://127.0.0.1:PORT` (or https). */
  url: string;
  tmp: string;
}

/**
 * Starts a test server (see startServer: `hello.txt`, `pub/data.bin`, the
 * `incoming` drop box) with `[http]` merged with `http`; `overrides` go
 * into the rest of the config. Closed after the test.
 */
export async function startWeb(t: TestContext, http: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): Promise<WebServer> {
  const srv = await startServer({ ...overrides, http: { port: 0, ...http } });
  t.after(() => srv.close());
  const addr = srv.server.addresses.http;
  if (!addr) throw new Error('the server has no web view');
  const { dir, cleanup } = await tempDir('wharf-web-');
  t.after(cleanup);
  return { srv, port: addr.port, url: `${addr.secure ? 'https' : 'http'}://127.0.0.1:${addr.port}`, tmp: dir };
}

/** curl with `-sS`, timeouts, and no proxy from the environment. */
export function curl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('curl', ['-sS', '--noproxy', '*', '--connect-timeout', '10', '--max-time', '25', ...args], opts);
}

/** The status line and headers curl printed with `-D -` / `-i` (lower-cased names; the last response's). */
export function headersOf(out: string): { status: number; headers: Map<string, string> } {
  const blocks = out.split(/\r\n\r\n/);
  let head = '';
  for (const b of blocks) if (/^HTTP\/[\d.]+ \d{3}/.test(b)) head = b;
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { status, headers };
}

/** A TCP connection to the web view, opened and admitted (its `connect` event seen). */
export async function holdConnection(web: WebServer): Promise<net.Socket> {
  const admitted = waitForEvent(web.srv.server, 'connect', (e) => e.protocol === 'http');
  const socket = net.connect({ port: web.port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  await admitted;
  return socket;
}

/** Reads what a socket receives until it closes (bounded). */
export function readUntilClosed(socket: net.Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms; got: ${text}`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}
