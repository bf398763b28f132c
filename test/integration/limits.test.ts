import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';

test('max_connections_per_ip and max_connections answer 421 with the reason; others stay up', async (t) => {
  const srv = await startServer({ server: { max_connections_per_ip: 2, max_connections: 3 } });
  const sessions: RawSession[] = [];
  t.after(async () => {
    for (const s of sessions) s.close();
    await srv.close();
  });
  for (let i = 0; i < 2; i++) {
    const s = await RawSession.open(srv.port);
    sessions.push(s);
    assert.equal((await s.read())?.code, 220);
  }
  const third = await RawSession.open(srv.port);
  sessions.push(third);
  const r = await third.read();
  assert.equal(r?.code, 421);
  assert.match(r?.raw ?? '', /Too many connections from your address \(the limit is 2\)/);
  await third.waitClosed();
  const other = await RawSession.open(srv.port, '127.0.0.1', '127.0.0.2');
  sessions.push(other);
  assert.equal((await other.read())?.code, 220);
  const fourth = await RawSession.open(srv.port, '127.0.0.1', '127.0.0.3');
  sessions.push(fourth);
  const r4 = await fourth.read();
  assert.equal(r4?.code, 421);
  assert.match(r4?.raw ?? '', /Too many connections \(the server limit is 3\)/);
  assert.equal((await sessions[0]!.cmd('NOOP')).code, 200);
  // A slot frees when a session ends (the server gives it back before it reports the disconnect).
  const gone = waitForEvent(srv.server, 'disconnect');
  sessions[0]!.close();
  await sessions[0]!.waitClosed();
  await gone;
  assert.equal(srv.server.ftpServer.connectionCount, 2);
  const again = await RawSession.open(srv.port);
  sessions.push(again);
  assert.equal((await again.read())?.code, 220);
});

test('anonymous max_connections: the next anonymous login gets 421; users still log in', async (t) => {
  const srv = await startServer({ anonymous: { max_connections: 1 } });
  const sessions: RawSession[] = [];
  t.after(async () => {
    for (const s of sessions) s.close();
    await srv.close();
  });
  const a = await RawSession.open(srv.port);
  sessions.push(a);
  await a.login();
  const b = await RawSession.open(srv.port);
  sessions.push(b);
  await b.read();
  await b.cmd('USER anonymous');
  const r = await b.cmd('PASS x@y');
  assert.equal(r.code, 421);
  assert.match(r.raw, /Too many anonymous users \(the limit is 1\)/);
  await b.waitClosed();
  const c = await RawSession.open(srv.port);
  sessions.push(c);
  await c.login('alice', 'secret');
  assert.equal((await a.cmd('NOOP')).code, 200);
  // The slot is given back when the session ends (before the server reports the logout).
  const loggedOut = waitForEvent(srv.server, 'logout', (e) => e.anonymous);
  assert.equal((await a.cmd('QUIT')).code, 221);
  await a.waitClosed();
  await loggedOut;
  const d = await RawSession.open(srv.port);
  sessions.push(d);
  assert.equal((await d.read())?.code, 220);
  assert.equal((await d.cmd('USER ftp')).code, 331);
  assert.equal((await d.cmd('PASS x@y')).code, 230);
});

test('require_email refuses a password that is not an address', async (t) => {
  const srv = await startServer({ anonymous: { require_email: true } });
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.read();
  await s.cmd('USER anonymous');
  assert.equal((await s.cmd('PASS guest')).code, 530);
  await s.cmd('USER anonymous');
  assert.equal((await s.cmd('PASS someone@example.org')).code, 230);
});

test('max_login_failures: 421 and close', async (t) => {
  const srv = await startServer({ server: { max_login_failures: 2 } });
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.read();
  await s.cmd('USER alice');
  assert.equal((await s.cmd('PASS bad1')).code, 530);
  await s.cmd('USER alice');
  const r = await s.cmd('PASS bad2');
  assert.equal(r.code, 421);
  await s.waitClosed();
});

test('login_timeout and idle_timeout end with 421 and a closed connection', async (t) => {
  const srv = await startServer({ server: { login_timeout: 1, idle_timeout: 1 } });
  const a = await RawSession.open(srv.port);
  const later: RawSession[] = [];
  t.after(async () => {
    a.close();
    for (const s of later) s.close();
    await srv.close();
  });
  await a.read();
  // Commands do not extend the login deadline.
  assert.equal((await a.cmd('NOOP')).code, 200);
  const r = await a.read(5000);
  assert.equal(r?.code, 421);
  assert.match(r?.raw ?? '', /Login timeout/);
  await a.waitClosed();
  const b = await RawSession.open(srv.port);
  later.push(b);
  await b.login();
  const r2 = await b.read(5000);
  assert.equal(r2?.code, 421);
  assert.match(r2?.raw ?? '', /Idle timeout/);
  await b.waitClosed();
});

test('FTP bounce: PORT/EPRT to another address or a low port are refused', async (t) => {
  const srv = await startServer();
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  assert.equal((await s.cmd('PORT 127,0,0,2,200,10')).code, 500);
  assert.equal((await s.cmd('EPRT |1|127.0.0.2|51210|')).code, 500);
  assert.equal((await s.cmd('PORT 127,0,0,1,0,25')).code, 504);
  assert.equal((await s.cmd('EPRT |1|127.0.0.1|25|')).code, 504);
  assert.equal((await s.cmd('EPRT |2|::1|5000|')).code, 522);
  assert.equal((await s.cmd('EPRT |9|x|5000|')).code, 522);
  assert.equal((await s.cmd('PORT 1,2,3')).code, 501);
  assert.equal((await s.cmd('EPRT garbage')).code, 501);
});

test('a passive connection from another address is refused', async (t) => {
  const srv = await startServer();
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  await s.cmd('TYPE I');
  const r = await s.cmd('EPSV');
  const port = Number(/\|\|\|(\d+)\|/.exec(r.raw)?.[1]);
  const foreign = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  foreign.on('error', () => undefined);
  await once(foreign, 'close');
  const good = connect({ port, host: '127.0.0.1' });
  await once(good, 'connect');
  const r1 = await s.cmd('RETR hello.txt');
  assert.equal(r1.code, 150);
  assert.equal((await readAll(good)).toString(), 'Hello, world!\n');
  assert.equal((await s.read())?.code, 226);
});

test('active mode PORT and EPRT transfer data; EPSV ALL refuses the others', async (t) => {
  const srv = await startServer();
  const s = await RawSession.open(srv.port);
  const listener = createServer();
  t.after(async () => {
    s.close();
    listener.close();
    await srv.close();
  });
  await s.login();
  await s.cmd('TYPE I');
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as { port: number }).port;
  const accept = () => once(listener, 'connection').then(([sock]) => sock as Socket);
  let conn = accept();
  assert.equal((await s.cmd(`PORT 127,0,0,1,${port >> 8},${port & 255}`)).code, 200);
  assert.equal((await s.cmd('RETR hello.txt')).code, 150);
  assert.equal((await readAll(await conn)).toString(), 'Hello, world!\n');
  assert.equal((await s.read())?.code, 226);
  conn = accept();
  assert.equal((await s.cmd(`EPRT |1|127.0.0.1|${port}|`)).code, 200);
  assert.equal((await s.cmd('NLST')).code, 150);
  assert.match((await readAll(await conn)).toString(), /hello\.txt\r\n/);
  assert.equal((await s.read())?.code, 226);
  assert.equal((await s.cmd('EPSV ALL')).code, 200);
  assert.equal((await s.cmd('PASV')).code, 503);
  assert.equal((await s.cmd(`PORT 127,0,0,1,${port >> 8},${port & 255}`)).code, 503);
  assert.equal((await s.cmd('EPSV')).code, 229);
});

test('IPv6: EPSV and EPRT over ::1', async (t) => {
  const srv = await startServer({ server: { host: '::1' } });
  const s = await RawSession.open(srv.port, '::1');
  const listener = createServer();
  t.after(async () => {
    s.close();
    listener.close();
    await srv.close();
  });
  await s.login();
  await s.cmd('TYPE I');
  assert.equal((await s.cmd('PASV')).code, 425);
  assert.equal((await s.cmd('EPSV 1')).code, 522);
  const r = await s.cmd('EPSV');
  const port = Number(/\|\|\|(\d+)\|/.exec(r.raw)?.[1]);
  const d = connect({ port, host: '::1' });
  await once(d, 'connect');
  assert.equal((await s.cmd('RETR hello.txt')).code, 150);
  assert.equal((await readAll(d)).toString(), 'Hello, world!\n');
  assert.equal((await s.read())?.code, 226);
  listener.listen(0, '::1');
  await once(listener, 'listening');
  const lport = (listener.address() as { port: number }).port;
  const conn = once(listener, 'connection').then(([sock]) => sock as Socket);
  assert.equal((await s.cmd(`EPRT |2|::1|${lport}|`)).code, 200);
  assert.equal((await s.cmd('RETR hello.txt')).code, 150);
  assert.equal((await readAll(await conn)).toString(), 'Hello, world!\n');
  assert.equal((await s.read())?.code, 226);
});

test('ABOR during a transfer answers 426 then 226 and the session stays usable', async (t) => {
  const srv = await startServer({ anonymous: { max_rate: 64 * 1024 } });
  await writeFile(join(srv.root, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 7));
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  await s.cmd('TYPE I');
  const data = await s.passive();
  assert.equal((await s.cmd('RETR big.bin')).code, 150);
  const first = await once(data, 'data');
  assert.ok((first[0] as Buffer).length > 0);
  const stat = await s.cmd('STAT');
  assert.equal(stat.code, 213);
  assert.match(stat.raw, /sending \/big\.bin/);
  s.write(Buffer.from([0xff, 0xf4, 0xff, 0xf2]));
  s.write('ABOR\r\n');
  assert.equal((await s.read())?.code, 426);
  assert.equal((await s.read())?.code, 226);
  data.destroy();
  assert.equal((await s.cmd('NOOP')).code, 200);
  assert.equal((await s.cmd('ABOR')).code, 225);
});

test('shutdown sends 421 to connected clients', async () => {
  const srv = await startServer();
  const s = await RawSession.open(srv.port);
  await s.login();
  const closing = srv.close();
  const r = await s.read();
  assert.equal(r?.code, 421);
  await s.waitClosed();
  await closing;
});
