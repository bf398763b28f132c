/** Edge cases: reply timeouts, short transfers reported as errors, IPv6 (EPSV and EPRT |2|). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { connect, toBuffer, FtpIntegrityError, FtpTimeoutError } from '../../src/index.js';
import { makeTree, sha256, startPyftpdlib, tempDir } from '../helpers/peers.js';

/** A scripted fake server: `reply(line, socket)` answers each command. */
async function fakeServer(onCommand: (line: string, socket: net.Socket) => void, greeting = '220 fake\r\n'): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (greeting) socket.write(greeting);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onCommand(line, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('a server that never greets times out with FtpTimeoutError', async (t) => {
  const srv = await fakeServer(() => undefined, '');
  t.after(() => srv.close());
  await assert.rejects(connect(`ftp://127.0.0.1:${srv.port}`, { timeout: 200 }), FtpTimeoutError);
});

test('a reply that never comes times out and closes the connection', async (t) => {
  const srv = await fakeServer((line, s) => {
    if (line.startsWith('USER')) s.write('230 ok\r\n');
    else if (line === 'FEAT') s.write('211 none\r\n');
    // PWD: silence
  });
  t.after(() => srv.close());
  const c = await connect(`ftp://127.0.0.1:${srv.port}`, { timeout: 300 });
  await assert.rejects(c.pwd(), FtpTimeoutError);
  assert.equal(c.closed, true);
});

test('a transfer that ends short with 226 is reported as FtpIntegrityError', async (t) => {
  const dataServers: net.Server[] = [];
  let dataConn: Promise<net.Socket> | undefined;
  const srv = await fakeServer((line, s) => {
    const verb = line.split(' ')[0];
    if (verb === 'USER') s.write('230 ok\r\n');
    else if (verb === 'FEAT') s.write('211-Features\r\n SIZE\r\n211 End\r\n');
    else if (verb === 'TYPE') s.write('200 ok\r\n');
    else if (verb === 'SIZE') s.write('213 100\r\n');
    else if (verb === 'EPSV') {
      const d = net.createServer();
      dataConn = new Promise((resolve) => d.once('connection', resolve));
      dataServers.push(d);
      d.listen(0, '127.0.0.1', () => s.write(`229 ok (|||${(d.address() as net.AddressInfo).port}|)\r\n`));
    } else if (verb === 'RETR') {
      s.write('150 here it comes\r\n');
      void dataConn?.then((conn) => conn.end(Buffer.alloc(10, 1), () => s.write('226 done (but short)\r\n')));
    } else if (verb === 'QUIT') s.end('221 bye\r\n');
  });
  t.after(async () => {
    for (const d of dataServers) d.close();
    await srv.close();
  });
  const c = await connect(`ftp://127.0.0.1:${srv.port}`, { timeout: 2000 });
  try {
    await assert.rejects(c.download('f', toBuffer()), (e: unknown) => e instanceof FtpIntegrityError && e.expected === 100 && e.actual === 10);
  } finally {
    await c.close();
  }
});

const work = await tempDir();
after(() => work.cleanup());

test('IPv6 loopback: EPSV and EPRT |2|', async (t) => {
  const root = path.join(work.dir, 'v6');
  await makeTree(root, { 'f.bin': 'ipv6 works' });
  const peer = await startPyftpdlib({ root, host: '::1' });
  t.after(() => peer.close());
  assert.equal(peer.url, `ftp://[::1]:${peer.port}`);
  const lines: string[] = [];
  const c = await connect(peer.url, { log: (e) => lines.push(e.text) });
  try {
    for (const passive of [true, false]) {
      c.passive = passive;
      const sink = toBuffer();
      await c.download('f.bin', sink);
      assert.equal(sha256(sink.data()), sha256('ipv6 works'));
    }
  } finally {
    await c.close();
  }
  assert.ok(lines.includes('EPSV'));
  assert.ok(
    lines.some((l) => l.startsWith('EPRT |2|::1|')),
    lines.join('\n'),
  );
});
