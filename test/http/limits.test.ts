/**
 * The web view under the server's limits: its connections count with
 * FTP's (the anonymous `max_connections`, per address), a banned address
 * gets 503, slow and idle clients are cut by the timeouts, the anonymous
 * `max_rate` holds downloads back, and closing the server ends its
 * connections (the leak check of every test proves every handle is gone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { bytes, describe, makeTree } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';
import { curl, headersOf, holdConnection, readUntilClosed, startWeb } from '../helpers/http.js';
import { RawSession } from '../helpers/raw.js';

test('the anonymous max_connections counts web view connections with FTP anonymous sessions', async (t) => {
  const web = await startWeb(t, {}, { anonymous: { max_connections: 2 } });
  const ftp = await RawSession.open(web.srv.port);
  t.after(() => ftp.close());
  await ftp.login();
  const held = await holdConnection(web);
  const refused = await curl(['-D', '-', `${web.url}/hello.txt`]);
  const r = headersOf(refused.stdout.toString());
  assert.equal(r.status, 503, describe(refused));
  assert.match(refused.stdout.toString(), /Too many anonymous users \(the limit is 2\)/);
  assert.ok(r.headers.get('retry-after'));
  // And FTP sees the web view's slot taken.
  const second = await RawSession.open(web.srv.port);
  t.after(() => second.close());
  await second.read();
  assert.equal((await second.cmd('USER anonymous')).code, 331);
  const pass = await second.cmd('PASS me@example.org');
  assert.equal(pass.code, 421);
  assert.match(pass.raw, /Too many anonymous users/);
  // The held connection closes: its slot is free again.
  const gone = waitForEvent(web.srv.server, 'disconnect', (e) => e.protocol === 'http');
  held.destroy();
  await gone;
  const ok = await curl(['-D', '-', `${web.url}/hello.txt`]);
  assert.equal(headersOf(ok.stdout.toString()).status, 200, describe(ok));
});

test('max_connections_per_ip counts web view connections', async (t) => {
  const web = await startWeb(t, {}, { server: { max_connections_per_ip: 2 } });
  const a = await holdConnection(web);
  const b = await holdConnection(web);
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const refused = await curl(['-D', '-', `${web.url}/`]);
  assert.equal(headersOf(refused.stdout.toString()).status, 503);
  assert.match(refused.stdout.toString(), /Too many connections from your address \(the limit is 2\)/);
});

test('a banned address gets 503 from the web view, with the time left', async (t) => {
  const web = await startWeb(t, {}, { server: { ban_threshold: 2, ban_time: 600 } });
  const banned = waitForEvent(web.srv.server, 'ban');
  const ftp = await RawSession.open(web.srv.port);
  t.after(() => ftp.close());
  await ftp.read();
  for (let i = 0; i < 2; i++) {
    await ftp.cmd('USER alice');
    await ftp.cmd('PASS wrong');
  }
  await banned;
  const refusedEvent = waitForEvent(web.srv.server, 'connection-refused', (e) => e.reason === 'banned');
  const r = await curl(['-D', '-', `${web.url}/hello.txt`]);
  const h = headersOf(r.stdout.toString());
  assert.equal(h.status, 503, describe(r));
  assert.match(r.stdout.toString(), /Too many failed logins from your address; try again in \d+ seconds/);
  assert.match(h.headers.get('retry-after') ?? '', /^\d+$/);
  assert.doesNotMatch(r.stdout.toString(), /Hello, world/);
  await refusedEvent;
});

test('outside the anonymous hours the web view answers 503 quoting them', async (t) => {
  const h = new Date().getUTCHours();
  const hours = `${String((h + 2) % 24).padStart(2, '0')}:00-${String((h + 3) % 24).padStart(2, '0')}:00`;
  const web = await startWeb(t, {}, { anonymous: { hours, timezone: 'UTC' } });
  const r = await curl(['-D', '-', `${web.url}/hello.txt`]);
  assert.equal(headersOf(r.stdout.toString()).status, 503, describe(r));
  assert.ok(r.stdout.toString().includes(`Anonymous access is allowed only ${hours} (UTC)`), r.stdout.toString());
  assert.doesNotMatch(r.stdout.toString(), /Hello, world/);
});

test('slowloris: a request head that does not arrive within login_timeout is cut with 408', async (t) => {
  const web = await startWeb(t, {}, { server: { login_timeout: 1 } });
  const socket = await holdConnection(web);
  const gone = waitForEvent(web.srv.server, 'disconnect', (e) => e.protocol === 'http');
  const started = performance.now();
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1');
  const text = await readUntilClosed(socket, 8000);
  const seconds = (performance.now() - started) / 1000;
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.ok(seconds < 6, `cut after ${seconds} s`);
  await gone;
});

test('an idle kept-alive connection is closed after idle_timeout (here shorter than the 5 s cap)', async (t) => {
  const web = await startWeb(t, {}, { server: { idle_timeout: 1 } });
  const socket = await holdConnection(web);
  const started = performance.now();
  const closed = readUntilClosed(socket, 8000);
  socket.write('GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const text = await closed;
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nHello, world!\n$/);
  assert.ok((performance.now() - started) / 1000 < 6);
});

test('the anonymous max_rate holds web downloads back (the FTP throttle)', async (t) => {
  const web = await startWeb(t, {}, { anonymous: { max_rate: 100_000 } });
  await makeTree(web.srv.root, { 'pub/rate.bin': bytes(250_000, 8) });
  const r = await curl(['-o', '/dev/null', '-w', '%{time_total} %{size_download}', `${web.url}/pub/rate.bin`]);
  assert.equal(r.code, 0, describe(r));
  const [time, size] = r.stdout.toString().split(' ').map(Number);
  assert.equal(size, 250_000);
  assert.ok((time ?? 0) >= 2, `250 kB at 100 kB/s took ${time} s`);
  // A range is throttled too.
  const part = await curl(['-o', '/dev/null', '-r', '0-149999', '-w', '%{time_total}', `${web.url}/pub/rate.bin`]);
  assert.ok(Number(part.stdout.toString()) >= 1.1, part.stdout.toString());
});

test('server.close() ends web view connections and running downloads', async (t) => {
  const web = await startWeb(t, {}, { anonymous: { max_rate: 50_000 } });
  await makeTree(web.srv.root, { 'pub/slow.bin': bytes(1_000_000, 6) });
  const idle = await holdConnection(web);
  const idleClosed = once(idle, 'close');
  const started = waitForEvent(web.srv.server, 'transfer-start', (e) => e.protocol === 'http');
  const ended = waitForEvent(web.srv.server, 'transfer', (e) => e.protocol === 'http');
  const child = spawn('curl', ['-sS', '--noproxy', '*', '--max-time', '30', '-o', '/dev/null', `${web.url}/pub/slow.bin`], { stdio: 'ignore' });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  await started;
  await web.srv.close();
  const [code] = await exited;
  assert.notEqual(code, 0, 'the download was cut');
  const e = await ended;
  assert.equal(e.ok, false);
  assert.ok(e.bytes < 1_000_000);
  await idleClosed;
  // Nothing listens any more.
  const probe = net.connect({ port: web.port, host: '127.0.0.1' });
  const [err] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
});
