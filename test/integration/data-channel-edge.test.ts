/**
 * The data channel around the edges of issue 10, item 1: ABOR while a
 * transfer waits for its passive connection, a second EPSV replacing a
 * pending one, a connection that arrives (and even closes) before the
 * command, a second connection to the same listener, the listener kept for
 * the next transfer, and the control connection closing during the wait. Every wait is on a server signal
 * (see dataOrder.ts), bounded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitForEvent } from '../helpers/events.js';
import { FtpsControl, readAllBounded, within } from '../helpers/tls.js';
import { SPARE_MS } from '../../src/server/data/channel.js';
import { REPLY_MS, SEED, checkVerb, connectData, epsvPort, seedHome, waitForDataChannel } from '../helpers/dataOrder.js';

async function setup(t: TestContext): Promise<{ srv: TestServer; c: FtpsControl }> {
  const srv = await startServer();
  t.after(() => srv.close());
  await seedHome(srv.aliceHome);
  const c = await FtpsControl.plain(srv.port);
  t.after(() => c.close());
  await c.greeting();
  await c.login('alice', 'secret');
  return { srv, c };
}

/** Asserts that nothing listens on `port` any more (the connection is refused). */
async function assertRefused(port: number): Promise<void> {
  const s = net.connect({ port, host: '127.0.0.1' });
  const outcome = await within(
    new Promise<string>((resolve) => {
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      s.once('connect', () => resolve('connected'));
    }),
    REPLY_MS,
    `connecting to ${port}`,
  );
  s.destroy();
  assert.equal(outcome, 'ECONNREFUSED', `port ${port} still accepts connections`);
}

/** Resolves once the server has closed `s` (bounded). */
async function closedByServer(s: net.Socket): Promise<void> {
  s.resume();
  if (!s.destroyed) await within(once(s, 'close'), REPLY_MS, 'the server closing the data connection');
}

/** Sends a file transfer command and resolves once the server waits for its data connection. */
async function commandWaiting(srv: TestServer, c: FtpsControl, line: string): Promise<void> {
  const started = waitForEvent(srv.server, 'transfer-start');
  c.send(line);
  await started;
}

test('ABOR while RETR waits for its passive connection: 425 at once, then 226; the listener is closed and the session goes on', async (t) => {
  const { srv, c } = await setup(t);
  const port = await epsvPort(c);
  await commandWaiting(srv, c, `RETR ${SEED.name}`);
  c.send('ABOR');
  const failed = await c.read(REPLY_MS);
  assert.equal(failed?.code, 425, failed?.raw);
  const abor = await c.read(REPLY_MS);
  assert.equal(abor?.code, 226, abor?.raw);
  await assertRefused(port);
  await checkVerb({ srv, control: c, order: 'command-first' }, srv.aliceHome, 'RETR');
});

test('ABOR with no transfer drops a pending listener and the connection it holds; the next RETR needs a new EPSV', async (t) => {
  const { c } = await setup(t);
  const port = await epsvPort(c);
  const accepted = waitForDataChannel('accepted', port);
  const held = await connectData(port);
  await accepted;
  assert.equal((await c.cmd('ABOR')).code, 225);
  await closedByServer(held);
  assert.equal((await c.cmd(`RETR ${SEED.name}`)).code, 425);
});

test('a second EPSV replaces a pending one: the first listener and its connection close, the transfer uses the second', async (t) => {
  const { srv, c } = await setup(t);
  const first = await epsvPort(c);
  const accepted = waitForDataChannel('accepted', first);
  const stale = await connectData(first);
  await accepted;
  const second = await epsvPort(c);
  assert.notEqual(second, first);
  await closedByServer(stale);
  await assertRefused(first);
  await commandWaiting(srv, c, `RETR ${SEED.name}`);
  const data = await connectData(second);
  const bytes = await readAllBounded(data, REPLY_MS);
  data.destroy();
  assert.equal((await c.read(REPLY_MS))?.code, 150);
  assert.equal((await c.read(REPLY_MS))?.code, 226);
  assert.ok(bytes.equals(SEED.bytes));
});

test('an upload written and closed before STOR is stored whole', async (t) => {
  const { srv, c } = await setup(t);
  const port = await epsvPort(c);
  const accepted = waitForDataChannel('accepted', port);
  const data = await connectData(port);
  const payload = Buffer.alloc(20_000, 'u');
  data.end(payload);
  await accepted;
  assert.equal((await c.cmd('STOR early.bin')).code, 150);
  assert.equal((await c.read(REPLY_MS))?.code, 226);
  data.destroy();
  assert.ok((await readFile(join(srv.aliceHome, 'early.bin'))).equals(payload));
});

/** EPSV, a connection the server has accepted, then `close` applied to it; resolves once the server has seen the close. */
async function heldThenClosed(c: FtpsControl, close: (s: net.Socket) => void): Promise<void> {
  const port = await epsvPort(c);
  const accepted = waitForDataChannel('accepted', port);
  const data = await connectData(port);
  await accepted;
  const seen = waitForDataChannel('peer-closed', port);
  close(data);
  await seen;
}

test('a connection closed by the client before RETR, LIST, NLST or MLSD ends that transfer at once (226 or 426, no hang)', async (t) => {
  const { srv, c } = await setup(t);
  for (const line of [`RETR ${SEED.name}`, 'LIST', 'NLST', 'MLSD']) {
    await heldThenClosed(c, (s) => s.destroy());
    assert.equal((await c.cmd(line)).code, 150, line);
    const end = await c.read(REPLY_MS);
    assert.ok(end?.code === 226 || end?.code === 426, `${line}: ${end?.raw}`);
  }
  await checkVerb({ srv, control: c, order: 'command-first' }, srv.aliceHome, 'NLST');
});

test('an empty upload (connection opened and closed before STOR) stores an empty file', async (t) => {
  const { srv, c } = await setup(t);
  await heldThenClosed(c, (s) => s.end());
  assert.equal((await c.cmd('STOR empty.bin')).code, 150);
  const end = await c.read(REPLY_MS);
  assert.equal(end?.code, 226, end?.raw);
  assert.equal((await readFile(join(srv.aliceHome, 'empty.bin'))).length, 0);
});

test('a connection reset by the client before LIST fails that transfer at once with 425', async (t) => {
  const { srv, c } = await setup(t);
  await heldThenClosed(c, (s) => s.resetAndDestroy());
  const r = await c.cmd('LIST');
  assert.equal(r.code, 425, r.raw);
  await checkVerb({ srv, control: c, order: 'command-first' }, srv.aliceHome, 'LIST');
});

test('a second connection to a listener that already holds one is refused; the first carries the transfer', async (t) => {
  const { c } = await setup(t);
  const port = await epsvPort(c);
  const accepted = waitForDataChannel('accepted', port);
  const data = await connectData(port);
  await accepted;
  // The listener stays open for the session's next transfer: the extra connection is closed unused.
  const refused = waitForDataChannel('refused', port, (m) => m.reason === 'extra');
  const extra = await connectData(port);
  const extraBytes = readAllBounded(extra, REPLY_MS);
  await refused;
  assert.equal((await extraBytes).length, 0);
  assert.equal((await c.cmd(`RETR ${SEED.name}`)).code, 150);
  const bytes = await readAllBounded(data, REPLY_MS);
  data.destroy();
  assert.equal((await c.read(REPLY_MS))?.code, 226);
  assert.ok(bytes.equals(SEED.bytes));
});

test('the control connection closing while a transfer waits for its data connection closes the listener at once', async (t) => {
  const { srv, c } = await setup(t);
  const port = await epsvPort(c);
  const ended = waitForEvent(srv.server, 'transfer', (e) => !e.ok);
  await commandWaiting(srv, c, `RETR ${SEED.name}`);
  c.close();
  await ended;
  await assertRefused(port);
});

test("the next EPSV reuses the last transfer's listener: same port, stale connections refused, byte-exact transfers", async (t) => {
  const { c } = await setup(t);
  const fetch = async (port: number) => {
    const data = await connectData(port);
    assert.equal((await c.cmd(`RETR ${SEED.name}`)).code, 150);
    const bytes = await readAllBounded(data, REPLY_MS);
    assert.equal((await c.read(REPLY_MS))?.code, 226);
    assert.ok(bytes.equals(SEED.bytes));
  };
  const port = await epsvPort(c);
  await fetch(port);
  // Between transfers the kept listener takes nothing: a connection now is stale.
  const stale = waitForDataChannel('refused', port, (m) => m.reason === 'stale');
  const early = await connectData(port);
  await stale;
  await closedByServer(early);
  assert.equal(await epsvPort(c), port);
  await fetch(port);
  // A passive mode that ABOR drops closes its listener, kept or not.
  const next = await epsvPort(c);
  assert.equal(next, port);
  assert.equal((await c.cmd('ABOR')).code, 225);
  await assertRefused(port);
});

test('a kept listener nobody asks for closes after SPARE_MS', async (t) => {
  const { c } = await setup(t);
  const port = await epsvPort(c);
  const data = await connectData(port);
  assert.equal((await c.cmd(`RETR ${SEED.name}`)).code, 150);
  await readAllBounded(data, REPLY_MS);
  assert.equal((await c.read(REPLY_MS))?.code, 226);
  const deadline = Date.now() + SPARE_MS + REPLY_MS;
  let open = true;
  while (open && Date.now() < deadline) {
    open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('error', () => resolve(false));
      s.once('connect', () => {
        s.destroy();
        setTimeout(() => resolve(true), 100);
      });
    });
  }
  assert.equal(open, false, `port ${port} still listens ${SPARE_MS + REPLY_MS} ms after its transfer`);
});
