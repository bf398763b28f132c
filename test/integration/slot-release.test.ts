/**
 * Connections that go away early give back every slot at once (issue 10,
 * item 4): a load balancer's TCP check (connect, close) on the plain or the
 * implicit FTPS port, a TLS handshake cut short, a connection that closes
 * while its admission is pending, a client that leaves during login. The
 * server runs on a CountingState, so each test can also check that every
 * admission is released exactly once. Waits are bounded well below
 * login_timeout (30 s), the deadline that used to free the slots.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type net from 'node:net';
import type tls from 'node:tls';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';
import { certPair, FtpsControl, within } from '../helpers/tls.js';
import { CountingState, PARTIAL_HELLO, clientHello, connectTo, halfHandshake, leave, readUntil, type Leave } from '../helpers/probes.js';

/** Well below the 30 s login_timeout. */
const PROMPTLY_MS = 5000;

interface Setup {
  srv: TestServer;
  state: CountingState;
  plain: number;
  implicit: number;
  /** 'connection-refused' events seen. */
  refused: unknown[];
  /** 'connect' events seen. */
  connects: number;
}

async function setup(t: TestContext, limits: { perIp?: number; total?: number; anonymous?: number } = {}): Promise<Setup> {
  const cert = await certPair(t);
  const state = new CountingState({ maxConnectionsPerIp: limits.perIp ?? 2, maxConnections: limits.total ?? 100, maxAnonymous: limits.anonymous ?? 10 });
  // Before the server closes (after-hooks run in order): no admission left waiting on a failed test.
  t.after(() => state.letThrough());
  const srv = await startServer(
    {
      server: { max_connections_per_ip: limits.perIp ?? 2, max_connections: limits.total ?? 100 },
      anonymous: { max_connections: limits.anonymous ?? 10 },
      tls: { cert: cert.cert, key: cert.key, implicit_port: 0 },
    },
    { state },
  );
  t.after(() => srv.close());
  const implicit = srv.server.ftpServer.implicitAddress?.port;
  if (implicit === undefined) throw new Error('no implicit FTPS listener');
  const s: Setup = { srv, state, plain: srv.port, implicit, refused: [], connects: 0 };
  srv.server.on('connection-refused', (e) => s.refused.push(e));
  srv.server.on('connect', () => s.connects++);
  return s;
}

/** Runs `probe` and waits for the session it made to end. */
async function probeEnds(s: Setup, what: string, probe: () => Promise<void>): Promise<void> {
  const gone = waitForEvent(s.srv.server, 'disconnect', () => true, PROMPTLY_MS);
  await probe();
  await assert.doesNotReject(gone, `${what}: the session did not end within ${PROMPTLY_MS} ms`);
}

/** Every admission released exactly once, nothing counted any more. */
async function assertBalanced(s: Setup): Promise<void> {
  // A login still deciding when its client left gives its anonymous slot back right after.
  await s.state.anonymousBalanced(PROMPTLY_MS);
  assert.equal(s.state.released, s.state.admitted, 'every admitted connection is released exactly once');
  assert.deepEqual(await s.state.counts(), { total: 0, anonymous: 0 });
  assert.equal(s.state.anonymousReleased, s.state.anonymousTaken);
}

/** Real clients still get in at once: one on the plain port, one on the implicit port. */
async function realClientsGetIn(t: TestContext, s: Setup, localAddress?: string): Promise<void> {
  const plain = await RawSession.open(s.plain, '127.0.0.1', localAddress);
  t.after(() => plain.close());
  assert.equal((await plain.read())?.code, 220);
  // tls.connect passes localAddress on to net.connect (its type does not list it).
  const secure = await FtpsControl.implicit(s.implicit, { localAddress } as tls.ConnectionOptions);
  t.after(() => secure.close());
  await secure.greeting();
  await secure.login('alice', 'secret');
  plain.close();
  secure.close();
  assert.deepEqual(s.refused, []);
}

for (const port of ['plain', 'implicit'] as const) {
  test(`TCP checks (connect, close) on the ${port} port give back their slot at once`, async (t) => {
    const s = await setup(t);
    const target = port === 'plain' ? s.plain : s.implicit;
    for (const how of ['destroy', 'end', 'destroy', 'end', 'destroy'] as Leave[]) {
      await probeEnds(s, `connect then ${how}`, async () => leave(await connectTo(target), how));
    }
    await assertBalanced(s);
    await realClientsGetIn(t, s);
  });
}

test('TLS handshakes cut short, on the implicit port and after AUTH TLS, give back their slot at once', async (t) => {
  const s = await setup(t);
  const hello = await clientHello();
  const implicit = async (how: Leave, send: (c: net.Socket) => Promise<void>) => {
    const c = await connectTo(s.implicit);
    await send(c);
    leave(c, how);
  };
  const explicit = async (how: Leave, send: (c: net.Socket) => Promise<void>) => {
    const c = await connectTo(s.plain);
    await readUntil(c, /^220 /m);
    c.write('AUTH TLS\r\n');
    await readUntil(c, /^234 /m);
    await send(c);
    leave(c, how);
  };
  const nothing = async () => undefined;
  const partial = async (c: net.Socket) => void c.write(PARTIAL_HELLO);
  const whole = async (c: net.Socket) => void c.write(hello);
  for (const how of ['destroy', 'end'] as Leave[]) {
    await probeEnds(s, `implicit, a partial ClientHello, ${how}`, () => implicit(how, partial));
    await probeEnds(s, `implicit, a ClientHello, ${how}`, () => implicit(how, whole));
    await probeEnds(s, `implicit, the server's flight received, ${how}`, () => implicit(how, halfHandshake));
    await probeEnds(s, `AUTH TLS then ${how}`, () => explicit(how, nothing));
    await probeEnds(s, `AUTH TLS, a partial ClientHello, ${how}`, () => explicit(how, partial));
    await probeEnds(s, `AUTH TLS, the server's flight received, ${how}`, () => explicit(how, halfHandshake));
  }
  await assertBalanced(s);
  await realClientsGetIn(t, s);
});

test('a connection that closes while its admission is pending holds no slot and starts no session', async (t) => {
  const s = await setup(t);
  const hello = await clientHello();
  const cases: [string, number, Buffer | string | null][] = [
    ['plain, nothing sent', s.plain, null],
    ['plain, a command sent', s.plain, 'USER anonymous\r\n'],
    ['implicit, nothing sent', s.implicit, null],
    ['implicit, a partial ClientHello sent', s.implicit, PARTIAL_HELLO],
    ['implicit, a ClientHello sent', s.implicit, hello],
  ];
  for (const [what, port, data] of cases) {
    s.state.hold();
    const asked = once(s.state.events, 'admit');
    const c = await connectTo(port);
    await within(asked, PROMPTLY_MS, `${what}: admission asked`);
    if (data) c.write(data);
    // Half-close, and wait for the server to close its side: it has seen the end while admission waits.
    const closed = once(c, 'close');
    leave(c, 'end');
    await assert.doesNotReject(within(closed, PROMPTLY_MS, 'the server closing'), `${what}: the server did not notice the close`);
    const admitted = s.state.admitted;
    s.state.letThrough();
    await s.state.releasedTo(admitted + 1, PROMPTLY_MS);
  }
  assert.equal(s.connects, 0, 'no session starts for a connection already gone');
  await assertBalanced(s);
  await realClientsGetIn(t, s);
});

for (const implicit of [true, false]) {
  test(`a client that leaves during login (${implicit ? 'implicit' : 'explicit'} FTPS) gives back its connection and anonymous slots`, async (t) => {
    const s = await setup(t, { anonymous: 1 });
    const open = async () => {
      const c = implicit ? await FtpsControl.implicit(s.implicit) : await FtpsControl.plain(s.plain);
      t.after(() => c.close());
      if (!implicit) {
        await c.greeting();
        await c.authTls();
      } else await c.greeting();
      return c;
    };
    for (const pass of [null, 'guest@example.com']) {
      await probeEnds(s, `anonymous login, ${pass === null ? 'gone after USER' : 'gone right after PASS'}`, async () => {
        const c = await open();
        assert.equal((await c.cmd('USER anonymous')).code, 331);
        if (pass !== null) c.send(`PASS ${pass}`);
        c.close();
      });
    }
    // A login that completed, then an abrupt close (no QUIT, no TLS close_notify).
    await probeEnds(s, 'anonymous session, dropped', async () => {
      const c = await open();
      await c.login('anonymous', 'guest@example.com');
      c.socket.destroy();
    });
    await assertBalanced(s);
    // The only anonymous slot is free again.
    const c = await open();
    await c.login('anonymous', 'guest@example.com');
    c.close();
    assert.deepEqual(s.refused, []);
  });
}

test('TCP checks from many addresses do not use up max_connections', async (t) => {
  const s = await setup(t, { total: 2 });
  for (let i = 2; i <= 6; i++) {
    for (const port of [s.plain, s.implicit]) {
      await probeEnds(s, `a check from 127.0.0.${i}`, async () => leave(await connectTo(port, `127.0.0.${i}`), 'destroy'));
    }
  }
  await assertBalanced(s);
  await realClientsGetIn(t, s, '127.0.0.7');
});
