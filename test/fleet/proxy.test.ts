/**
 * The PROXY protocol on a real server, with headers written by hand over
 * loopback (HAProxy itself: haproxy.test.ts). From a trusted proxy the
 * header is required and names the client for limits, bans, the data
 * connection check, PORT, logs, events and the xferlog; anyone else is
 * refused; a malformed, over-long or late header closes the connection;
 * with `proxy_protocol` off no header is believed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';
import { closedWithin, connectWithHeader, proxyV1, proxyV2 } from '../helpers/proxy.js';
import { memoryLog, type MemoryLog } from '../helpers/fleet.js';
import { certPair } from '../helpers/tls.js';

const CLIENT = { address: '192.0.2.7', port: 40001 };
const OTHER = { address: '192.0.2.8', port: 40002 };

/** A server with proxy_protocol on (trusting 127.0.0.1 unless `server` overrides say otherwise). */
async function proxied(t: TestContext, overrides: Record<string, unknown> = {}, log?: MemoryLog): Promise<TestServer> {
  const server = { proxy_protocol: true, trusted_proxies: ['127.0.0.1/32'], ...(overrides.server as object | undefined) };
  const srv = await startServer({ ...overrides, server }, log ? { logger: log.logger } : {});
  t.after(() => srv.close());
  return srv;
}

function to(srv: TestServer): { address: string; port: number } {
  return { address: '127.0.0.1', port: srv.port };
}

test('v1 and v2 headers name the client in events, logs, STAT and login; the proxy is only `proxy`', async (t) => {
  const log = memoryLog();
  const srv = await proxied(t, {}, log);
  for (const header of [proxyV1(CLIENT, to(srv)), proxyV2(CLIENT, to(srv))]) {
    const connected = waitForEvent(srv.server, 'connect');
    const login = waitForEvent(srv.server, 'login');
    const s = await RawSession.open(srv.port, '127.0.0.1', undefined, header);
    await s.login('anonymous', 'me@example.com');
    assert.deepEqual({ ...(await connected), session: 0 }, { session: 0, protocol: 'ftp', remote: CLIENT.address, proxy: '127.0.0.1' });
    assert.equal((await login).remote, CLIENT.address);
    const stat = await s.cmd('STAT');
    assert.match(stat.raw, /Connected to 192\.0\.2\.7/);
    s.close();
  }
  const lines = log.lines().filter((l) => l.event === 'connect');
  assert.equal(lines.length, 2);
  for (const l of lines) assert.deepEqual([l.remote, l.proxy], [CLIENT.address, '127.0.0.1']);
  assert.ok(
    log.lines().every((l) => l.remote !== '127.0.0.1'),
    'the proxy never appears as remote',
  );
});

test('bytes sent with the header (the first command) reach the session', async (t) => {
  const srv = await proxied(t);
  const s = await RawSession.open(srv.port, '127.0.0.1', undefined, Buffer.concat([proxyV2(CLIENT, to(srv)), Buffer.from('USER anonymous\r\nPASS a@b.c\r\n')]));
  t.after(() => s.close());
  assert.equal((await s.read())?.code, 220);
  assert.equal((await s.read())?.code, 331);
  assert.equal((await s.read())?.code, 230);
});

test('a v2 LOCAL header and v1 UNKNOWN (health checks) use the connection’s own address', async (t) => {
  const srv = await proxied(t);
  for (const header of [proxyV2(null, null, { local: true }), Buffer.from('PROXY UNKNOWN\r\n')]) {
    const connected = waitForEvent(srv.server, 'connect');
    const s = await RawSession.open(srv.port, '127.0.0.1', undefined, header);
    assert.equal((await s.read())?.code, 220);
    const e = await connected;
    assert.equal(e.remote, '127.0.0.1');
    assert.equal(e.proxy, undefined);
    s.close();
  }
});

test('from an untrusted source with proxy_protocol on: closed at once, never greeted', async (t) => {
  const srv = await proxied(t, { server: { trusted_proxies: ['10.0.0.0/8', '::1'] } });
  for (const header of [proxyV2(CLIENT, to(srv)), Buffer.alloc(0)]) {
    const s = await connectWithHeader('127.0.0.1', srv.port, header);
    let greeted = '';
    s.on('data', (d: Buffer) => (greeted += d.toString()));
    assert.equal(await closedWithin(s, 1000), true, 'closed within a second');
    assert.equal(greeted, '');
  }
});

test('a malformed or over-long header closes the connection without a reply', async (t) => {
  const srv = await proxied(t);
  const bad = [
    Buffer.from('USER anonymous\r\n'),
    Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 1 99999\r\n'),
    Buffer.from(`PROXY UNKNOWN ${'x'.repeat(300)}`),
    Buffer.concat([proxyV2(CLIENT, to(srv)).subarray(0, 14), Buffer.from([0xff, 0xff])]),
    Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'),
  ];
  for (const header of bad) {
    const s = await connectWithHeader('127.0.0.1', srv.port, header);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    assert.equal(await closedWithin(s, 1000), true, `closed: ${header.subarray(0, 20).toString('latin1')}`);
    assert.equal(got, '');
  }
});

test('a header that does not arrive in time (5 s) closes the connection', async (t) => {
  const srv = await proxied(t);
  const started = Date.now();
  const [silent, partial] = await Promise.all([
    connectWithHeader('127.0.0.1', srv.port, Buffer.alloc(0)),
    connectWithHeader('127.0.0.1', srv.port, Buffer.from('PROXY TCP4 192.0.2')),
  ]);
  const [a, b] = await Promise.all([closedWithin(silent, 8000), closedWithin(partial, 8000)]);
  assert.deepEqual([a, b], [true, true]);
  const took = Date.now() - started;
  assert.ok(took >= 4500 && took < 8000, `closed after ${took} ms`);
});

test('with proxy_protocol off a header is never believed', async (t) => {
  const srv = await startServer({ server: { trusted_proxies: ['127.0.0.1/32'] } });
  t.after(() => srv.close());
  const connected = waitForEvent(srv.server, 'connect');
  const s = await RawSession.open(srv.port, '127.0.0.1', undefined, proxyV1(CLIENT, to(srv)));
  t.after(() => s.close());
  assert.equal((await s.read())?.code, 220);
  assert.equal((await s.read())?.code, 500, 'the header is an unknown command');
  assert.equal((await connected).remote, '127.0.0.1');
});

test('bans and the failure throttle hit the client the header names, not the proxy', async (t) => {
  const srv = await proxied(t, { server: { ban_threshold: 2, max_login_failures: 5 } });
  const s = await RawSession.open(srv.port, '127.0.0.1', undefined, proxyV2(CLIENT, to(srv)));
  assert.equal((await s.read())?.code, 220);
  const banned = waitForEvent(srv.server, 'ban');
  for (let i = 0; i < 2; i++) {
    await s.cmd('USER alice');
    await s.cmd('PASS wrong');
  }
  assert.equal((await banned).remote, CLIENT.address);
  s.close();
  const again = await RawSession.open(srv.port, '127.0.0.1', undefined, proxyV2(CLIENT, to(srv)));
  const refused = await again.read();
  assert.equal(refused?.code, 421);
  assert.match(refused?.raw ?? '', /failed logins/);
  again.close();
  const other = await RawSession.open(srv.port, '127.0.0.1', undefined, proxyV2(OTHER, to(srv)));
  await other.login();
  other.close();
});

/** EPSV, then a data connection carrying `header`; the socket. */
async function dataWith(s: RawSession, header: Buffer): Promise<Socket> {
  const r = await s.cmd('EPSV');
  const port = Number(/\(\|\|\|(\d+)\|\)/.exec(r.raw)?.[1]);
  return connectWithHeader('127.0.0.1', port, header);
}

test('passive data from the proxy carries a header naming the session’s client; PORT to another address is refused', async (t) => {
  const srv = await proxied(t, { log: { transfer_log: 'xfer.log' } });
  const s = await RawSession.open(srv.port, '127.0.0.1', undefined, proxyV2(CLIENT, to(srv)));
  t.after(() => s.close());
  await s.login('anonymous', 'me@example.com');
  await s.cmd('TYPE I');
  // The right client: the download works, and the header's bytes are not part of it.
  const d = await dataWith(s, proxyV2({ address: CLIENT.address, port: 40009 }, to(srv)));
  assert.equal((await s.cmd('RETR hello.txt')).code, 150);
  assert.equal((await readAll(d)).toString(), 'Hello, world!\n');
  assert.equal((await s.read())?.code, 226);
  // An upload whose first bytes arrive with the header.
  const r = await s.cmd('EPSV');
  const up = await connectWithHeader('127.0.0.1', Number(/\(\|\|\|(\d+)\|\)/.exec(r.raw)?.[1]), Buffer.concat([proxyV1(CLIENT, to(srv)), Buffer.from('uploaded bytes')]));
  assert.equal((await s.cmd('STOR incoming/up.txt')).code, 150);
  up.end();
  assert.equal((await s.read())?.code, 226);
  assert.equal(await readFile(join(srv.root, 'incoming', 'up.txt'), 'utf8'), 'uploaded bytes');
  // Another client's header: refused as foreign; the transfer fails.
  const foreign = await dataWith(s, proxyV2(OTHER, to(srv)));
  assert.equal(await closedWithin(foreign, 2000), true);
  // PORT to the proxy's address (not the client's) is a bounce.
  assert.equal((await s.cmd('PORT 127,0,0,1,200,10')).code, 500);
  assert.equal((await s.cmd('QUIT')).code, 221);
  await srv.server.close(0);
  const xfer = await readFile(join(srv.dir, 'xfer.log'), 'utf8');
  assert.match(xfer, / 192\.0\.2\.7 14 \/hello\.txt b _ o a /);
  assert.doesNotMatch(xfer, /127\.0\.0\.1/);
});

test('data straight from the client (not through the proxy) stands on its own address: PASV for clients that reach the node directly', async (t) => {
  // Control connections come through the proxy (127.0.0.2) for client 127.0.0.1; data connections come from 127.0.0.1 itself.
  const srv = await proxied(t, { server: { trusted_proxies: ['127.0.0.2/32'] } });
  const header = proxyV2({ address: '127.0.0.1', port: 40003 }, to(srv));
  const s = await RawSession.open(srv.port, '127.0.0.1', '127.0.0.2', header);
  t.after(() => s.close());
  await s.login();
  await s.cmd('TYPE I');
  const d = await dataWith(s, Buffer.alloc(0));
  assert.equal((await s.cmd('RETR hello.txt')).code, 150);
  assert.equal((await readAll(d)).toString(), 'Hello, world!\n');
  assert.equal((await s.read())?.code, 226);
  // From the proxy's own address without a header: a trusted source must send one; closed.
  const r = await s.cmd('EPSV');
  const stray = await connectWithHeader('127.0.0.1', Number(/\(\|\|\|(\d+)\|\)/.exec(r.raw)?.[1]), Buffer.from('no header'), '127.0.0.2');
  assert.equal(await closedWithin(stray, 1000), true);
});

test('implicit FTPS: the header comes before the TLS handshake', async (t) => {
  const cert = await certPair(t);
  const srv = await proxied(t, { tls: { cert: cert.cert, key: cert.key, implicit_port: 0 } });
  const port = srv.server.ftpServer.implicitAddress?.port ?? 0;
  const connected = waitForEvent(srv.server, 'connect');
  const raw = await connectWithHeader('127.0.0.1', port, proxyV2(CLIENT, { address: '127.0.0.1', port }));
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
  t.after(() => secure.destroy());
  await once(secure, 'secureConnect');
  const [greeting] = (await once(secure, 'data')) as [Buffer];
  assert.match(greeting.toString(), /^220 /);
  assert.equal((await connected).remote, CLIENT.address);
});

test('the web view: the client from the header is the visitor (HTTP and a raw request)', async (t) => {
  const srv = await proxied(t, { http: { port: 0 } });
  const port = srv.server.addresses.http?.port ?? 0;
  const connected = waitForEvent(srv.server, 'connect', (e) => e.protocol === 'http');
  const s = await connectWithHeader(
    '127.0.0.1',
    port,
    Buffer.concat([proxyV2(CLIENT, { address: '127.0.0.1', port }), Buffer.from('GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]),
  );
  const body = (await readAll(s)).toString();
  assert.match(body, /^HTTP\/1\.1 200 /);
  assert.match(body, /Hello, world!/);
  const e = await connected;
  assert.deepEqual([e.remote, e.proxy], [CLIENT.address, '127.0.0.1']);
  const refused = await connectWithHeader('127.0.0.1', port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  assert.equal(await closedWithin(refused, 1000), true);
});

test('the web view over HTTPS: the header, then TLS', async (t) => {
  const cert = await certPair(t);
  const srv = await proxied(t, { tls: { cert: cert.cert, key: cert.key }, http: { port: 0, tls: true } });
  const port = srv.server.addresses.http?.port ?? 0;
  const connected = waitForEvent(srv.server, 'connect', (e) => e.protocol === 'http');
  const raw = await connectWithHeader('127.0.0.1', port, proxyV1(CLIENT, { address: '127.0.0.1', port }));
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
  await once(secure, 'secureConnect');
  secure.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const body = (await readAll(secure)).toString();
  assert.match(body, /^HTTP\/1\.1 200 [\s\S]*Hello, world!/);
  assert.equal((await connected).remote, CLIENT.address);
});

test('a connection that closes before its header is let go (no session, no count)', async (t) => {
  const srv = await proxied(t);
  const s = connect({ host: '127.0.0.1', port: srv.port });
  await once(s, 'connect');
  s.end('PROXY TCP4');
  assert.equal(await closedWithin(s, 2000), true);
  assert.deepEqual(srv.server.ftpServer.liveSessions(), []);
});
