/**
 * The client speaks through the protocol core's codecs: PASV/EPSV replies,
 * EPRT/PORT arguments, PASS masking, TYPE A conversion, 257 paths and MDTM
 * times. A scripted fake server checks what goes on the wire and that the
 * client's errors (classes and messages) are the ones it always threw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable, type Transform } from 'node:stream';
import { connect, fromBuffer, maskCommand, parseMlsdTime, toBuffer, FtpClientError, FtpProtocolError, FtpReplyError, type LogEntry } from '../../src/index.js';
import { redactCommandLine } from '../../src/protocol/command.js';
import { crlfToLf, lfToCrlf } from '../../src/client/streams.js';

type Handler = (line: string, socket: net.Socket, ctx: FakeContext) => void;

interface FakeContext {
  /** Commands received, in order. */
  commands: string[];
  /** Opens a passive data listener and returns its port; `onConnection` gets the socket. */
  listen(onConnection: (socket: net.Socket) => void): Promise<number>;
}

/** A scripted fake server: `handle(line, socket)` answers each command; USER/FEAT/TYPE/QUIT have defaults. */
async function fakeServer(handle: Handler): Promise<{ port: number; ctx: FakeContext; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const ctx: FakeContext = {
    commands: [],
    listen: (onConnection) =>
      new Promise((resolve) => {
        const d = net.createServer((s) => {
          sockets.add(s);
          onConnection(s);
        });
        servers.push(d);
        d.listen(0, '127.0.0.1', () => resolve((d.address() as net.AddressInfo).port));
      }),
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write('220 fake\r\n');
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        ctx.commands.push(line);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'QUIT') socket.end('221 bye\r\n');
        else handle(line, socket, ctx);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    ctx,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** Default answers for login and housekeeping; returns false when the line is not one of them. */
function basics(line: string, s: net.Socket): boolean {
  const verb = line.split(' ')[0]?.toUpperCase();
  if (verb === 'USER') s.write('331 password please\r\n');
  else if (verb === 'PASS') s.write(line === 'PASS right' || line === 'PASS anonymous@' ? '230 in\r\n' : '530 no\r\n');
  else if (verb === 'FEAT') s.write('211 no features\r\n');
  else if (verb === 'TYPE') s.write('200 type set\r\n');
  else return false;
  return true;
}

test('EPSV and PASV replies the client cannot parse: FtpProtocolError with the same messages as before', async (t) => {
  let epsv = '229 garbage';
  let pasv = '227 bogus';
  const srv = await fakeServer((line, s) => {
    if (basics(line, s)) return;
    if (line === 'EPSV') s.write(`${epsv}\r\n`);
    else if (line === 'PASV') s.write(`${pasv}\r\n`);
    else s.write('502 no\r\n');
  });
  t.after(() => srv.close());
  const cases: Array<[string, string, string]> = [
    ['229 garbage', '', 'cannot parse EPSV reply: garbage'],
    ['229 Entering Extended Passive Mode (|||0|)', '', 'cannot parse EPSV reply: Entering Extended Passive Mode (|||0|)'],
    ['229 Entering Extended Passive Mode (|||70000|)', '', 'cannot parse EPSV reply: Entering Extended Passive Mode (|||70000|)'],
    ['500 no EPSV here', '227 bogus', 'cannot parse PASV reply: bogus'],
    ['500 no EPSV here', '227 Entering Passive Mode (127,0,0,1,300,1)', 'cannot parse PASV reply: Entering Passive Mode (127,0,0,1,300,1)'],
    ['500 no EPSV here', '227 Entering Passive Mode (127,0,0,1,4)', 'cannot parse PASV reply: Entering Passive Mode (127,0,0,1,4)'],
  ];
  for (const [e, p, message] of cases) {
    epsv = e;
    pasv = p;
    const c = await connect({ host: '127.0.0.1', port: srv.port, password: 'right', timeout: 2000 });
    try {
      await assert.rejects(c.download('f', toBuffer(), { expectedSize: 0 }), (err: unknown) => {
        assert.ok(err instanceof FtpProtocolError, String(err));
        assert.equal(err.message, message);
        return true;
      });
    } finally {
      c.destroy();
    }
  }
});

test('passive: EPSV with any delimiter, then PASV without parentheses once EPSV is refused', async (t) => {
  let epsvStyle: 'bang' | 'refuse' = 'bang';
  const srv = await fakeServer((line, s, ctx) => {
    if (basics(line, s)) return;
    const serve = (reply: (port: number) => string): void => {
      void ctx.listen((d) => d.end('payload')).then((port) => s.write(`${reply(port)}\r\n`));
    };
    if (line === 'EPSV') {
      if (epsvStyle === 'refuse') s.write('502 EPSV not implemented\r\n');
      else serve((port) => `229 Entering Extended Passive Mode (!!!${port}!)`);
    } else if (line === 'PASV') {
      // The announced host is ignored: the client connects to the control peer.
      serve((port) => `227 Entering Passive Mode =10,99,99,99,${port >> 8},${port & 255}`);
    } else if (line.startsWith('RETR')) {
      s.write('150 go\r\n');
      setTimeout(() => s.write('226 done\r\n'), 50);
    } else s.write('502 no\r\n');
  });
  t.after(() => srv.close());
  for (const style of ['bang', 'refuse'] as const) {
    epsvStyle = style;
    const c = await connect({ host: '127.0.0.1', port: srv.port, password: 'right', timeout: 2000 });
    try {
      const sink = toBuffer();
      assert.equal(await c.download('f', sink, { expectedSize: 7 }), 7);
      assert.equal(sink.data().toString(), 'payload');
      if (style === 'refuse') {
        // Remembered: the second transfer goes straight to PASV.
        srv.ctx.commands.length = 0;
        await c.download('f', toBuffer(), { expectedSize: 7 });
        assert.deepEqual(
          srv.ctx.commands.filter((l) => /^(EPSV|PASV)$/.test(l)),
          ['PASV'],
        );
      }
    } finally {
      c.destroy();
    }
  }
});

test('active: EPRT |1|, then PORT h1,h2,h3,h4,p1,p2 once EPRT is refused', async (t) => {
  let refuseEprt = false;
  let target = 0;
  const srv = await fakeServer((line, s) => {
    if (basics(line, s)) return;
    const eprt = /^EPRT \|1\|127\.0\.0\.1\|(\d+)\|$/.exec(line);
    const port = /^PORT 127,0,0,1,(\d+),(\d+)$/.exec(line);
    if (line.startsWith('EPRT')) {
      if (refuseEprt || !eprt) s.write('500 EPRT not understood\r\n');
      else {
        s.write('200 ok\r\n');
        target = Number(eprt[1]);
      }
    } else if (line.startsWith('PORT')) {
      if (!port) s.write('501 bad PORT\r\n');
      else {
        s.write('200 ok\r\n');
        target = Number(port[1]) * 256 + Number(port[2]);
      }
    } else if (line.startsWith('RETR')) {
      s.write('150 go\r\n');
      const d = net.connect({ host: '127.0.0.1', port: target });
      d.on('error', () => undefined);
      d.end('active!', () => setTimeout(() => s.write('226 done\r\n'), 50));
    } else s.write('502 no\r\n');
  });
  t.after(() => srv.close());
  for (const refuse of [false, true]) {
    refuseEprt = refuse;
    srv.ctx.commands.length = 0;
    const c = await connect({ host: '127.0.0.1', port: srv.port, password: 'right', timeout: 2000, passive: false });
    try {
      const sink = toBuffer();
      assert.equal(await c.download('f', sink, { expectedSize: 7 }), 7);
      assert.equal(sink.data().toString(), 'active!');
      const sent = srv.ctx.commands.filter((l) => /^(EPRT|PORT) /.test(l));
      assert.match(sent[0] ?? '', /^EPRT \|1\|127\.0\.0\.1\|\d+\|$/);
      if (refuse) assert.match(sent[1] ?? '', /^PORT 127,0,0,1,\d+,\d+$/);
      else assert.equal(sent.length, 1);
    } finally {
      c.destroy();
    }
  }
});

test('PASS never shows: log, failed login, refused control characters', async (t) => {
  const srv = await fakeServer((line, s) => {
    if (basics(line, s)) return;
    s.write('200 ok\r\n');
  });
  t.after(() => srv.close());
  const log: LogEntry[] = [];
  const c = await connect({ host: '127.0.0.1', port: srv.port, password: 'right', timeout: 2000, log: (e) => log.push(e) });
  try {
    assert.deepEqual(
      log
        .filter((e) => e.direction === 'send')
        .map((e) => e.text)
        .slice(0, 2),
      ['USER anonymous', 'PASS ****'],
    );
    await c.send('pass\tright');
    await c.send('ACCT bank');
    await c.send('PASSWORD visible');
    const sent = log.filter((e) => e.direction === 'send').map((e) => e.text);
    assert.deepEqual(sent.slice(-3), ['pass ****', 'ACCT ****', 'PASSWORD visible']);
    assert.ok(!sent.some((text) => /right|bank/.test(text)));
    await assert.rejects(c.send('PASS right\r\nDELE x'), (err: unknown) => {
      assert.ok(err instanceof FtpClientError);
      assert.equal(err.message, 'refusing to send a command containing CR, LF or NUL: "PASS ****"');
      return true;
    });
  } finally {
    c.destroy();
  }
  await assert.rejects(connect({ host: '127.0.0.1', port: srv.port, password: 'wrong', timeout: 2000 }), (err: unknown) => {
    assert.ok(err instanceof FtpReplyError);
    assert.equal(err.command, 'PASS ****');
    assert.equal(err.message, 'PASS ****: 530 no');
    return true;
  });
});

test('maskCommand (public API) is the protocol redaction', () => {
  for (const line of ['PASS x', 'pass\ty', 'ACCT z', 'PASS', 'PASV', 'RETR PASS x', 'PASS\r\nx', '']) {
    assert.equal(maskCommand(line), redactCommandLine(line), JSON.stringify(line));
  }
  assert.equal(maskCommand('PASS hunter2'), 'PASS ****');
});

test('parseMlsdTime (public API): the protocol time-val, whitespace trimmed', () => {
  assert.equal(parseMlsdTime('20240102030405')?.toISOString(), '2024-01-02T03:04:05.000Z');
  assert.equal(parseMlsdTime(' 20240102030405.25\r\n')?.toISOString(), '2024-01-02T03:04:05.250Z');
  assert.equal(parseMlsdTime('2024010203040'), undefined);
  assert.equal(parseMlsdTime(''), undefined);
  assert.equal(parseMlsdTime('20241302030405'), undefined); // month 13 is refused, not rolled into next year
});

async function through(transform: Transform, chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    transform.on('data', (c: Buffer) => out.push(c));
    transform.on('end', resolve);
    transform.on('error', reject);
  });
  Readable.from(chunks).pipe(transform);
  await done;
  return Buffer.concat(out).toString('latin1');
}

test('TYPE A streams convert across every chunk boundary', async () => {
  const wire = Buffer.from('a\r\nb\r\r\n\r\nc\rd\n\xe9\r', 'latin1');
  const disk = 'a\nb\r\n\nc\rd\n\xe9\r';
  for (let i = 0; i <= wire.length; i++) {
    assert.equal(await through(crlfToLf(), [wire.subarray(0, i), wire.subarray(i)]), disk, `decode split ${i}`);
  }
  assert.equal(
    await through(
      crlfToLf(),
      [...wire].map((b) => Buffer.from([b])),
    ),
    disk,
  );
  assert.equal(await through(crlfToLf(), []), '');
  const local = Buffer.from('x\ny\r\nz\n\n\r', 'latin1');
  const sent = 'x\r\ny\r\nz\r\n\r\n\r';
  for (let i = 0; i <= local.length; i++) {
    assert.equal(await through(lfToCrlf(), [local.subarray(0, i), local.subarray(i)]), sent, `encode split ${i}`);
  }
});

test('ASCII download and upload over the wire; 257 paths and MDTM times', async (t) => {
  let uploaded = Buffer.alloc(0);
  let pendingRetr = true;
  const srv = await fakeServer((line, s, ctx) => {
    if (basics(line, s)) return;
    if (line === 'EPSV') {
      void ctx
        .listen((d) => {
          if (pendingRetr) {
            // CR and LF split over two writes.
            d.write('one\r');
            setTimeout(() => d.end('\ntwo\r\n'), 20);
          } else {
            const parts: Buffer[] = [];
            d.on('data', (c: Buffer) => parts.push(c));
            d.on('end', () => {
              uploaded = Buffer.concat(parts);
              s.write('226 stored\r\n');
            });
          }
        })
        .then((port) => s.write(`229 ok (|||${port}|)\r\n`));
    } else if (line.startsWith('RETR')) {
      s.write('150 go\r\n');
      setTimeout(() => s.write('226 done\r\n'), 80);
    } else if (line.startsWith('STOR')) {
      s.write('150 send\r\n');
    } else if (line === 'PWD') s.write('257 "/odd ""quoted"" dir" is current\r\n');
    else if (line === 'MDTM good') s.write('213 20240102030405\r\n');
    else if (line === 'MDTM bad') s.write('213 20241302030405\r\n');
    else s.write('502 no\r\n');
  });
  t.after(() => srv.close());
  const c = await connect({ host: '127.0.0.1', port: srv.port, password: 'right', timeout: 2000 });
  try {
    const sink = toBuffer();
    await c.download('f', sink, { mode: 'ascii' });
    assert.equal(sink.data().toString(), 'one\ntwo\n');
    assert.ok(srv.ctx.commands.includes('TYPE A'));
    pendingRetr = false;
    await c.upload(fromBuffer('l1\nl2\r\nl3'), 'g', { mode: 'ascii' });
    assert.equal(uploaded.toString(), 'l1\r\nl2\r\nl3');
    assert.equal(await c.pwd(), '/odd "quoted" dir');
    assert.equal((await c.lastModified('good')).toISOString(), '2024-01-02T03:04:05.000Z');
    await assert.rejects(c.lastModified('bad'), (err: unknown) => {
      assert.ok(err instanceof FtpProtocolError);
      assert.equal(err.message, 'cannot parse MDTM reply: 20241302030405');
      return true;
    });
  } finally {
    c.destroy();
  }
});
