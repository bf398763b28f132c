/**
 * Which TLS sessions a data connection may resume (issue 10, item 5; see
 * SECURITY.md): its own control connection's, or a sibling control
 * connection's from the same client address logged in as the same account
 * (open, still logging in, or ended within the hour). A session of another
 * account, another address, a connection that never logged in, or another
 * server is refused with 522, and not a byte of the file leaks.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { waitForEvent } from '../helpers/events.js';
import { FtpsControl, readAllBounded, startFtps, within, type FtpsServer } from '../helpers/tls.js';

const CONTENT = 'the same file in every home\n';

interface Who {
  user: string;
  pass: string;
  implicit?: boolean;
  from?: string;
}

const ALICE: Who = { user: 'alice', pass: 'secret' };

async function server(t: TestContext): Promise<FtpsServer> {
  const f = await startFtps(t);
  for (const dir of [f.srv.aliceHome, f.srv.readerHome, f.srv.root]) await fs.writeFile(path.join(dir, 'same.txt'), CONTENT);
  return f;
}

/** A TLS control connection, greeted (not logged in). */
async function greeted(t: TestContext, f: FtpsServer, who: Who): Promise<FtpsControl> {
  let c: FtpsControl;
  if (who.implicit || who.from) {
    // tls.connect passes localAddress on to net.connect (its type does not list it).
    c = await FtpsControl.implicit(f.implicitPort, { localAddress: who.from } as tls.ConnectionOptions);
    t.after(() => c.close());
    await c.greeting();
  } else {
    c = await FtpsControl.plain(f.port);
    t.after(() => c.close());
    await c.greeting();
    await c.authTls();
  }
  return c;
}

/** A TLS control connection, logged in, PROT P, holding a TLS session to resume. */
async function control(t: TestContext, f: FtpsServer, who: Who): Promise<FtpsControl> {
  const c = await greeted(t, f, who);
  await c.login(who.user, who.pass);
  await c.protP();
  if (!c.session) throw new Error('no TLS session ticket on the control connection');
  return c;
}

/**
 * `raw` as a stream for a TLS client that sends its bytes 7 at a time,
 * each in its own TCP segment (no Nagle), waiting a turn in between.
 */
function trickle(raw: net.Socket): Duplex {
  raw.setNoDelay(true);
  const wire = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, callback) {
      void (async () => {
        for (let i = 0; i < chunk.length; i += 7) {
          await new Promise((resolve) => raw.write(chunk.subarray(i, i + 7), resolve));
          await new Promise((resolve) => setImmediate(resolve));
        }
        callback();
      })();
    },
    final(callback) {
      raw.end();
      callback();
    },
  });
  raw.on('data', (d: Buffer) => wire.push(d));
  raw.on('end', () => wire.push(null));
  raw.on('close', () => wire.destroy());
  return wire;
}

/** Starts RETR same.txt on `c`, its data connection resuming `session`; `between` runs once 150 is in. */
async function retr(c: FtpsControl, session: Buffer | undefined, from?: string, between?: () => Promise<void>, slow = false): Promise<{ code: number | undefined; data: string }> {
  const r = await c.cmd('EPSV');
  const port = /\(\|\|\|(\d+)\|\)/.exec(r.raw)?.[1];
  assert.ok(port, r.raw);
  const raw = net.connect({ port: Number(port), host: '127.0.0.1', localAddress: from });
  raw.on('error', () => undefined);
  await within(once(raw, 'connect'), 10_000, 'data connect');
  c.send('RETR same.txt');
  const opening = await c.read();
  assert.equal(opening?.code, 150, opening?.raw);
  const secure = tls.connect({ socket: slow ? trickle(raw) : raw, rejectUnauthorized: false, session });
  secure.on('error', () => undefined);
  const data = readAllBounded(secure).catch(() => Buffer.alloc(0));
  await between?.();
  const got = (await data).toString('utf8');
  raw.destroy();
  return { code: (await c.read())?.code, data: got };
}

async function assertAccepted(c: FtpsControl, session: Buffer | undefined, from?: string, between?: () => Promise<void>): Promise<void> {
  assert.deepEqual(await retr(c, session, from, between), { code: 226, data: CONTENT });
}

async function assertRefused(c: FtpsControl, session: Buffer | undefined, from?: string, between?: () => Promise<void>): Promise<void> {
  assert.deepEqual(await retr(c, session, from, between), { code: 522, data: '' });
}

for (const implicit of [false, true]) {
  const kind = implicit ? 'implicit' : 'explicit';
  test(`${kind} FTPS: a data connection may resume a sibling control connection's TLS session (same address, same account)`, async (t) => {
    const f = await server(t);
    const a = await control(t, f, { ...ALICE, implicit });
    const b = await control(t, f, { ...ALICE, implicit });
    await assertAccepted(b, a.session);
    await assertAccepted(a, b.session);
    await assertAccepted(b, b.session);
    // Anonymous sessions are one account too.
    const x = await control(t, f, { user: 'anonymous', pass: 'guest@example.com', implicit });
    const y = await control(t, f, { user: 'anonymous', pass: 'guest@example.com', implicit });
    await assertAccepted(y, x.session);
  });

  test(`${kind} FTPS: a sibling's TLS session of another account is refused with 522`, async (t) => {
    const f = await server(t);
    const alice = await control(t, f, { ...ALICE, implicit });
    const reader = await control(t, f, { user: 'reader', pass: 'secret', implicit });
    const anonymous = await control(t, f, { user: 'anonymous', pass: 'guest@example.com', implicit });
    await assertRefused(reader, alice.session);
    await assertRefused(alice, reader.session);
    await assertRefused(anonymous, alice.session);
    await assertRefused(alice, anonymous.session);
    // A fresh TLS session (another TLS client) is refused as before.
    await assertRefused(alice, undefined);
    // The refusals left the sessions usable.
    await assertAccepted(reader, reader.session);
  });
}

test("a sibling's TLS session from another client address is refused, even for the same account", async (t) => {
  const f = await server(t);
  const here = await control(t, f, { ...ALICE, from: '127.0.0.1' });
  const there = await control(t, f, { ...ALICE, from: '127.0.0.2' });
  await assertRefused(here, there.session, '127.0.0.1');
  await assertRefused(there, here.session, '127.0.0.2');
  await assertAccepted(there, there.session, '127.0.0.2');
});

test('a sibling still logging in is waited for: accepted once it logs in as the same account, refused when it leaves without', async (t) => {
  const f = await server(t);
  const alice = await control(t, f, ALICE);

  const pending = await greeted(t, f, ALICE);
  assert.equal((await pending.cmd('USER alice')).code, 331);
  await assertAccepted(alice, pending.session, undefined, async () => {
    assert.equal((await pending.cmd('PASS secret')).code, 230);
  });

  const failing = await greeted(t, f, ALICE);
  assert.equal((await failing.cmd('USER alice')).code, 331);
  await assertRefused(alice, failing.session, undefined, async () => {
    assert.equal((await failing.cmd('PASS wrong')).code, 530);
    assert.equal((await failing.cmd('QUIT')).code, 221);
  });
});

test("an ended sibling's TLS session still counts as it was when it ended; one that never logged in does not", async (t) => {
  const f = await server(t);
  const alice = await control(t, f, ALICE);
  const ended = await control(t, f, ALICE);
  const neverIn = await greeted(t, f, ALICE);
  for (const c of [ended, neverIn]) {
    const gone = waitForEvent(f.srv.server, 'disconnect');
    assert.equal((await c.cmd('QUIT')).code, 221);
    await gone;
  }
  await assertAccepted(alice, ended.session);
  await assertRefused(alice, neverIn.session);
});

test("another server's TLS session is refused", async (t) => {
  const f = await server(t);
  const other = await server(t);
  const alice = await control(t, f, ALICE);
  const elsewhere = await control(t, other, ALICE);
  await assertRefused(alice, elsewhere.session);
  await assertAccepted(alice, alice.session);
});

test("a data connection whose ClientHello arrives a few bytes at a time still resumes a sibling's session", async (t) => {
  const f = await server(t);
  const a = await control(t, f, ALICE);
  const b = await control(t, f, ALICE);
  assert.deepEqual(await retr(b, a.session, undefined, undefined, true), { code: 226, data: CONTENT });
  const reader = await control(t, f, { user: 'reader', pass: 'secret' });
  assert.deepEqual(await retr(reader, a.session, undefined, undefined, true), { code: 522, data: '' });
});
