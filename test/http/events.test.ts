/**
 * What web view downloads report, and HTTPS: every GET that sends a file
 * (whole or a range) is a transfer (protocol `http`, anonymous) with
 * transfer-start and transfer events and an xferlog line like an FTP
 * download; HEAD, 304 and 416 are not transfers; connections emit connect
 * and disconnect. With `[http] tls = true` the view is HTTPS with
 * `[tls]`'s certificate, admitted the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { bytes, describe, makeTree, sha256 } from '../helpers/clients.js';
import { waitForEvent, waitForEvents } from '../helpers/events.js';
import { curl, headersOf, holdConnection, startWeb } from '../helpers/http.js';
import { certPair } from '../helpers/tls.js';
import { secretHash } from '../helpers/server.js';

/** An xferlog line of an anonymous web view download. */
function xferRe(bytesSent: number, file: string, status: 'c' | 'i'): RegExp {
  const esc = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4} \\d+ 127\\.0\\.0\\.1 ${bytesSent} ${esc} b _ o a anonymous http 0 \\* ${status}$`);
}

test('downloads are transfer events and xferlog lines with protocol http; HEAD, 304 and 416 are not', async (t) => {
  const web = await startWeb(t, {}, { log: { transfer_log: 'xfer.log' } });
  const connects = waitForEvents(web.srv.server, 'connect', 1, (e) => e.protocol === 'http');
  const starts = waitForEvents(web.srv.server, 'transfer-start', 2);
  const transfers = waitForEvents(web.srv.server, 'transfer', 2);
  const full = await curl([`${web.url}/pub/data.bin`, '-o', path.join(web.tmp, 'full')]);
  assert.equal(full.code, 0, describe(full));
  const head = await curl(['-I', `${web.url}/pub/data.bin`]);
  const etag = headersOf(head.stdout.toString()).headers.get('etag') ?? '';
  assert.equal(headersOf((await curl(['-D', '-', '-H', `If-None-Match: ${etag}`, `${web.url}/pub/data.bin`])).stdout.toString()).status, 304);
  assert.equal(headersOf((await curl(['-D', '-', '-r', '999999-', `${web.url}/pub/data.bin`])).stdout.toString()).status, 416);
  await curl(['-r', '1000-1999', `${web.url}/pub/data.bin`, '-o', path.join(web.tmp, 'part')]);
  const [connect] = await connects;
  assert.equal(connect?.remote, '127.0.0.1');
  assert.deepEqual(
    (await starts).map((e) => [e.protocol, e.user, e.anonymous, e.direction, e.path, e.offset]),
    [
      ['http', 'anonymous', true, 'download', '/pub/data.bin', 0],
      ['http', 'anonymous', true, 'download', '/pub/data.bin', 1000],
    ],
  );
  const done = await transfers;
  assert.deepEqual(
    done.map((e) => [e.protocol, e.path, e.offset, e.bytes, e.ok, e.mode]),
    [
      ['http', '/pub/data.bin', 0, 65536, true, 'binary'],
      ['http', '/pub/data.bin', 1000, 1000, true, 'binary'],
    ],
  );
  await web.srv.server.close(0);
  const lines = (await fs.readFile(path.join(web.srv.dir, 'xfer.log'), 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0] ?? '', xferRe(65536, '/pub/data.bin', 'c'));
  assert.match(lines[1] ?? '', xferRe(1000, '/pub/data.bin', 'c'));
});

test('a download the client cuts off is an incomplete transfer with the bytes sent', async (t) => {
  const web = await startWeb(t, {}, { anonymous: { max_rate: 200_000 } });
  await makeTree(web.srv.root, { 'pub/cut.bin': bytes(2_000_000, 3) });
  const progress = waitForEvent(web.srv.server, 'transfer-progress', (e) => e.protocol === 'http');
  const ended = waitForEvent(web.srv.server, 'transfer', (e) => e.protocol === 'http');
  const child = spawn('curl', ['-sS', '--noproxy', '*', '-o', '/dev/null', `${web.url}/pub/cut.bin`], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const p = await progress;
  assert.ok(p.bytes > 0 && p.bytes < 2_000_000);
  child.kill('SIGKILL');
  await exited;
  const e = await ended;
  assert.equal(e.ok, false);
  assert.ok(e.bytes > 0 && e.bytes < 2_000_000, String(e.bytes));
});

test("HTTPS with [tls]'s certificate: pages, byte-exact downloads and ranges; admission applies over TLS", async (t) => {
  const cert = await certPair(t);
  const web = await startWeb(t, { tls: true }, { tls: { cert: cert.cert, key: cert.key }, anonymous: { max_connections: 1 } });
  assert.match(web.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(web.srv.server.addresses.http?.secure, true);
  const page = await curl(['--cacert', cert.cert, '-D', '-', `${web.url}/pub/`]);
  assert.equal(page.code, 0, describe(page));
  assert.equal(headersOf(page.stdout.toString()).status, 200);
  assert.match(page.stdout.toString(), /<a href="data\.bin">data\.bin<\/a>/);
  const file = path.join(web.tmp, 'data.bin');
  const got = await curl(['--cacert', cert.cert, '-o', file, `${web.url}/pub/data.bin`]);
  assert.equal(got.code, 0, describe(got));
  assert.equal(sha256(await fs.readFile(file)), sha256(await fs.readFile(path.join(web.srv.root, 'pub', 'data.bin'))));
  const range = await curl(['-k', '-D', '-', '-r', '-10', '-o', '/dev/null', `${web.url}/pub/data.bin`]);
  assert.equal(headersOf(range.stdout.toString()).headers.get('content-range'), 'bytes 65526-65535/65536');
  // Without verification material curl refuses the self-signed certificate; plain HTTP gets nothing.
  assert.notEqual((await curl([`${web.url}/`])).code, 0);
  assert.notEqual((await curl([`http://127.0.0.1:${web.port}/`])).code, 0);
  // The anonymous cap (1) is held by a TCP connection: a TLS request is refused with 503.
  const held = await holdConnection(web);
  t.after(() => held.destroy());
  const refused = await curl(['-k', '-D', '-', `${web.url}/hello.txt`]);
  assert.equal(headersOf(refused.stdout.toString()).status, 503, describe(refused));
  assert.match(refused.stdout.toString(), /Too many anonymous users/);
});

test('the admin console lists web view connections as anonymous http sessions, counts them in metrics, and can close one', async (t) => {
  const web = await startWeb(t, {}, { admin: { port: 0, token: await secretHash() } });
  const admin = web.srv.server.addresses.admin;
  assert.ok(admin);
  const base = `http://127.0.0.1:${admin.port}`;
  const held = await holdConnection(web);
  const closed = once(held, 'close');
  const list = await curl(['-H', 'Authorization: Bearer secret', `${base}/api/sessions`]);
  const sessions = JSON.parse(list.stdout.toString()) as { id: number; user: string; protocol: string; address: string }[];
  const mine = sessions.find((s) => s.protocol === 'http');
  assert.ok(mine, list.stdout.toString());
  assert.equal(mine.user, 'anonymous');
  assert.equal(mine.address, '127.0.0.1');
  const metrics = await curl(['-H', 'Authorization: Bearer secret', `${base}/metrics`]);
  assert.match(metrics.stdout.toString(), /wharf_sessions\{protocol="http",kind="anonymous"\} 1/);
  const gone = waitForEvent(web.srv.server, 'disconnect', (e) => e.protocol === 'http');
  const del = await curl(['-D', '-', '-X', 'DELETE', '-H', 'Authorization: Bearer secret', `${base}/api/sessions/${mine.id}`]);
  assert.ok(headersOf(del.stdout.toString()).status < 300, del.stdout.toString());
  await closed;
  await gone;
});
