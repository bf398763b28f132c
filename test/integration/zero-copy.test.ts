/**
 * Downloads to plain sockets go through sendfile(2) (src/vfs/local/sendfile.ts,
 * native/sendfile.c). What a user sees must not change: bytes exact, ABOR
 * answered at once with the data connection closed, a client that stops
 * reading cut after data_timeout, one that reads slowly but steadily never
 * cut, and the web view's keep-alive. (FTPS and HTTPS downloads keep the
 * JavaScript copy loop, which the TLS suites cover.)
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { zeroCopy } from '../../src/vfs/local/sendfile.js';
import { startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';
import { bytes, curl, describe, sha256 } from '../helpers/clients.js';
import { holdConnection, startWeb } from '../helpers/http.js';
import { waitForEvent } from '../helpers/events.js';

const MiB = 1024 * 1024;

/** Resolves when the socket has closed; fails after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the data connection was still open after ${ms} ms`)), ms);
    socket.resume();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test('the zero-copy addon is built and loaded (npm ci builds it where make and a C compiler are installed)', () => {
  assert.equal(process.platform, 'linux');
  assert.equal(zeroCopy, true, 'build/Release/wharf_native.node is missing or does not load');
});

/**
 * A server holding a 48 MiB big.bin, and a session in the middle of its
 * unthrottled RETR with the reader stalled: the socket buffers fill and the
 * server waits for room.
 */
async function stalledRetr(t: TestContext, server: Record<string, unknown> = {}) {
  const srv = await startServer({ server });
  const content = bytes(48 * MiB, 5);
  await writeFile(join(srv.root, 'big.bin'), content);
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  await s.cmd('TYPE I');
  const data = await s.passive();
  assert.equal((await s.cmd('RETR big.bin')).code, 150);
  await once(data, 'data');
  data.pause();
  return { s, data, content };
}

test('ABOR during an unthrottled RETR to a client that stopped reading: 426 then 226, the data connection closes, the next RETR is byte-exact', async (t) => {
  const { s, data, content } = await stalledRetr(t);
  s.write('ABOR\r\n');
  assert.equal((await s.read())?.code, 426);
  assert.equal((await s.read())?.code, 226);
  await closedWithin(data, 5000);
  const again = await s.passive();
  const got = readAll(again);
  assert.equal((await s.cmd('RETR big.bin')).code, 150);
  assert.equal((await s.read(20_000))?.code, 226);
  assert.equal(sha256(await got), sha256(content));
});

test('a client that stops reading during RETR is cut after data_timeout (426) and its data connection closed', async (t) => {
  const { s, data } = await stalledRetr(t, { data_timeout: 1 });
  const r = await s.read(10_000);
  assert.equal(r?.code, 426, r?.raw);
  assert.match(r?.raw ?? '', /timed out/);
  await closedWithin(data, 5000);
  assert.equal((await s.cmd('NOOP')).code, 200);
});

/**
 * Reads a socket to its end at a steady pace: at most `chunk` bytes per
 * `tickMs`, so the server sees bytes leave all along and the reader never
 * pauses for long (curl's --limit-rate reads a burst, then may sleep for
 * seconds to get back to its average).
 */
function pacedRead(socket: Socket, chunk: number, tickMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let inTick = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      inTick += d.length;
      if (inTick < chunk) return;
      socket.pause();
      timer = setTimeout(() => {
        inTick = 0;
        socket.resume();
      }, tickMs);
    });
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
    socket.once('error', reject);
  });
}

test('a slow reader that takes several data_timeouts in all, never pausing long, gets the whole file, by FTP and by HTTP', async (t) => {
  const web = await startWeb(t, {}, { server: { data_timeout: 1 } });
  const content = bytes(8 * MiB, 7);
  await writeFile(join(web.srv.root, 'slow.bin'), content);
  const s = await RawSession.open(web.srv.port);
  t.after(() => s.close());
  await s.login();
  await s.cmd('TYPE I');
  const data = await s.passive();
  const viaFtp = pacedRead(data, 64 * 1024, 25); // about 2.6 MB/s: some 3 s, 3 data_timeouts
  assert.equal((await s.cmd('RETR slow.bin')).code, 150);
  const http = await holdConnection(web);
  const viaHttp = pacedRead(http, 64 * 1024, 25);
  http.write('GET /slow.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const [ftpBytes, httpBytes] = await Promise.all([viaFtp, viaHttp]);
  assert.equal((await s.read(10_000))?.code, 226);
  assert.equal(sha256(ftpBytes), sha256(content));
  const head = httpBytes.indexOf('\r\n\r\n');
  assert.match(httpBytes.subarray(0, head).toString('latin1'), /^HTTP\/1\.1 200 /);
  assert.equal(sha256(httpBytes.subarray(head + 4)), sha256(content));
});

test('the web view: two files on one keep-alive connection, whole and byte-exact; a stalled response is cut after data_timeout', async (t) => {
  const web = await startWeb(t, {}, { server: { data_timeout: 1 } });
  const a = bytes(9 * MiB + 17, 8);
  const b = bytes(3 * MiB + 5, 9);
  await writeFile(join(web.srv.root, 'a.bin'), a);
  await writeFile(join(web.srv.root, 'b.bin'), b);
  const outA = join(web.tmp, 'a.bin');
  const outB = join(web.tmp, 'b.bin');
  const got = await curl(['--noproxy', '*', '-w', '%{num_connects} ', '-o', outA, `${web.url}/a.bin`, '-o', outB, `${web.url}/b.bin`]);
  assert.equal(got.code, 0, describe(got));
  assert.equal(String(got.stdout).trim(), '1 0', 'the second request reused the connection');
  assert.equal(sha256(await readFile(outA)), sha256(a));
  assert.equal(sha256(await readFile(outB)), sha256(b));

  await writeFile(join(web.srv.root, 'big.bin'), bytes(48 * MiB, 10));
  const socket = await holdConnection(web);
  const cut = waitForEvent(web.srv.server, 'transfer', (e) => e.protocol === 'http' && e.path === '/big.bin');
  socket.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(socket, 'data');
  socket.pause(); // the socket buffers fill: the response makes no progress
  const ended = await cut;
  assert.equal(ended.ok, false, 'the stalled download ended as failed');
  assert.ok(ended.bytes < 48 * MiB);
  await closedWithin(socket, 5000);
});
