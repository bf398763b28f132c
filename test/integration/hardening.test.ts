import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type Socket } from 'node:net';
import { readdir, readFile, writeFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { secretHash, startServer, type TestServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';
import { LocalVfs } from '../../src/vfs/local/localVfs.js';
import { StorageOpener } from '../../src/core/storage.js';
import { WharfServer } from '../../src/host/server.js';
import { spawn } from 'node:child_process';

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}
import type { Vfs } from '../../src/vfs/types.js';

async function failLogin(s: RawSession): Promise<{ code: number; ms: number }> {
  await s.cmd('USER alice');
  const t0 = performance.now();
  const r = await s.cmd('PASS wrong');
  return { code: r.code, ms: performance.now() - t0 };
}

test('brute force: failed logins are answered after a growing delay; the address is then banned', async (t) => {
  const srv = await startServer({ server: { login_failure_delay: 0.2, ban_threshold: 4, ban_time: 60, max_login_failures: 10 } });
  const sessions: RawSession[] = [];
  t.after(async () => {
    for (const s of sessions) s.close();
    await srv.close();
  });
  const a = await RawSession.open(srv.port);
  sessions.push(a);
  await a.read();
  const f1 = await failLogin(a);
  const f2 = await failLogin(a);
  assert.equal(f1.code, 530);
  assert.equal(f2.code, 530);
  assert.ok(f1.ms >= 190, `first failure answered after ${f1.ms} ms`);
  assert.ok(f2.ms >= 390, `second failure answered after ${f2.ms} ms`);
  // Across connections: the count is per address.
  const b = await RawSession.open(srv.port);
  sessions.push(b);
  await b.read();
  assert.ok((await failLogin(b)).ms >= 790);
  const last = await failLogin(b);
  assert.equal(last.code, 421);
  await b.waitClosed();
  const c = await RawSession.open(srv.port);
  sessions.push(c);
  const r = await c.read();
  assert.equal(r?.code, 421);
  assert.match(r?.raw ?? '', /Too many failed logins from your address; try again in \d+ seconds/);
  await c.waitClosed();
  // Another address is not affected, and the session already open is not disturbed.
  const d = await RawSession.open(srv.port, '127.0.0.1', '127.0.0.2');
  sessions.push(d);
  await d.login('alice', 'secret');
  assert.equal((await a.cmd('NOOP')).code, 200);
});

test('a client that never reads its replies stops being read (bounded memory)', async (t) => {
  const srv = await startServer();
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  s.socket.pause();
  const chunk = Buffer.from('NOOP\r\n'.repeat(10_000));
  let blocked = false;
  // Not a poll: "the server stopped reading" has no event, only the absence of one (no drain), so each
  // backed-up write gets a window for a drain; the loop is bounded (a server that reads everything fails it).
  for (let i = 0; i < 2000 && !blocked; i++) {
    if (!s.socket.write(chunk)) {
      // Our side backs up only if the server stopped reading; wait for a drain that must not come quickly.
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<false>((r) => (timer = setTimeout(() => r(false), 1000)));
      const drained = await Promise.race([once(s.socket, 'drain').then(() => true), quiet]);
      clearTimeout(timer);
      blocked = drained === false;
    }
  }
  assert.ok(blocked, 'the server kept reading commands whose replies were never read');
  const sessions = srv.server.ftpServer.sessionStats();
  assert.equal(sessions.length, 1);
  assert.ok(sessions[0]!.unsentReplyBytes < 256 * 1024, `${sessions[0]!.unsentReplyBytes} bytes of replies buffered`);
});

test('a PASV nobody connects to is closed after data_timeout; a second PASV replaces the first', async (t) => {
  const srv = await startServer({ server: { data_timeout: 2 } });
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  const p1 = Number(/\|\|\|(\d+)\|/.exec((await s.cmd('EPSV')).raw)?.[1]);
  const p2 = Number(/\|\|\|(\d+)\|/.exec((await s.cmd('EPSV')).raw)?.[1]);
  // Probes come from another address, so the server never takes them as the data connection.
  const refused = async (port: number) => {
    const c = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const [ev] = await Promise.race([once(c, 'error').then(() => ['error']), once(c, 'connect').then(() => ['connect'])]);
    c.destroy();
    return ev === 'error';
  };
  assert.ok(await refused(p1), 'the first listener was closed by the second PASV');
  // The second one closes by itself after data_timeout (2 s). Bounded poll, kept: the server reports no
  // event when a passive listener closes, and a probe from the right address would become the data connection.
  let closed = await refused(p2);
  assert.ok(!closed, 'the second passive listener was closed before data_timeout');
  const deadline = Date.now() + 10_000;
  while (!closed && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    closed = await refused(p2);
  }
  assert.ok(closed, 'the idle passive listener was not closed');
  assert.equal((await s.cmd('RETR hello.txt')).code, 425);
});

/** A server whose alice has doc.txt holding `content`, and alice logged in (TYPE I). */
async function aliceWithDoc(t: TestContext, content: string): Promise<{ srv: TestServer; s: RawSession }> {
  const srv = await startServer();
  await writeFile(join(srv.aliceHome, 'doc.txt'), content);
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login('alice', 'secret');
  await s.cmd('TYPE I');
  return { srv, s };
}

/** alice's doc.txt, and an upload replacing it with 100,000 bytes sent so far. */
async function halfUpload(t: TestContext): Promise<{ srv: TestServer; s: RawSession; data: Socket }> {
  const { srv, s } = await aliceWithDoc(t, 'the complete old version');
  const data = await s.passive();
  assert.equal((await s.cmd('STOR doc.txt')).code, 150);
  await new Promise<void>((r) => data.write(Buffer.alloc(100_000, 1), () => r()));
  return { srv, s, data };
}

test('a client killed during an upload leaves the old file, and no partial file', async (t) => {
  const { srv, s, data } = await halfUpload(t);
  // The client dies: both connections close at once.
  const transfer = waitForEvent(srv.server, 'transfer', (e) => e.path === '/doc.txt');
  const gone = waitForEvent(srv.server, 'disconnect');
  s.socket.destroy();
  data.end();
  await once(data, 'close');
  assert.equal((await transfer).ok, false, 'an upload whose control connection died was taken as complete');
  await gone;
  assert.equal(srv.server.ftpServer.connectionCount, 0);
  assert.equal(await readFile(join(srv.aliceHome, 'doc.txt'), 'utf8'), 'the complete old version');
  assert.deepEqual(await readdir(srv.aliceHome), ['doc.txt']);
});

for (const how of ['closes its control connection', 'sends ABOR'] as const) {
  test(`a client that ends its data connection early and ${how} moments later (curl --max-time) leaves the replaced file whole`, async (t) => {
    const { srv, s, data } = await halfUpload(t);
    const transfer = waitForEvent(srv.server, 'transfer', (e) => e.path === '/doc.txt');
    // The client gives up: its data connection ends cleanly (in stream mode, that is how a
    // complete upload ends too); the control connection follows 10 ms later, as curl's does.
    data.end();
    await delay(10);
    if (how === 'sends ABOR') {
      s.write('ABOR\r\n');
      assert.equal((await s.read())?.code, 426);
      assert.equal((await s.read())?.code, 226);
    } else s.socket.destroy();
    assert.equal((await transfer).ok, false, 'the partial upload was taken as complete');
    assert.equal(await readFile(join(srv.aliceHome, 'doc.txt'), 'utf8'), 'the complete old version');
    assert.deepEqual(await readdir(srv.aliceHome), ['doc.txt']);
  });
}

test('an upload that replaces a file and ends normally replaces it (after the short wait); a new file needs no wait', async (t) => {
  const { srv, s } = await aliceWithDoc(t, 'old');
  for (const name of ['doc.txt', 'new.txt']) {
    const data = await s.passive();
    assert.equal((await s.cmd(`STOR ${name}`)).code, 150);
    data.end(`new content of ${name}`);
    assert.equal((await s.read())?.code, 226);
    assert.equal(await readFile(join(srv.aliceHome, name), 'utf8'), `new content of ${name}`);
  }
});

test('a full disk answers 452 and removes the partial upload', async (t) => {
  const failingVfs = async (root: string): Promise<Vfs> => {
    const inner = await LocalVfs.open(root);
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop !== 'write') return Reflect.get(target, prop, receiver) as unknown;
        return async (path: string, mode: Parameters<Vfs['write']>[1]) => {
          const up = await target.write(path, mode);
          let written = 0;
          const real = up.stream;
          const stream = new Writable({
            write(chunk: Buffer, _e, cb) {
              written += chunk.length;
              if (written > 50_000) {
                const err = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
                cb(err);
                return;
              }
              real.write(chunk, cb);
            },
            final(cb) {
              real.end(cb);
            },
          });
          return { stream, commit: () => up.commit(), abort: () => up.abort() };
        };
      },
    });
  };
  const home = await mkdtemp(join(tmpdir(), 'wharf-full-'));
  const users = [{ name: 'alice', password: await secretHash(), home: await failingVfs(home), permissions: ['*'] }];
  const srv = await startServer({ users });
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
    await rm(home, { recursive: true, force: true });
  });
  await s.login('alice', 'secret');
  await s.cmd('TYPE I');
  const data = await s.passive();
  data.on('error', () => undefined);
  assert.equal((await s.cmd('STOR big.bin')).code, 150);
  data.end(Buffer.alloc(200_000, 2));
  const r = await s.read();
  assert.equal(r?.code, 452);
  assert.deepEqual(await readdir(home), []);
  assert.equal((await s.cmd('NOOP')).code, 200);
});

test("temporary files left by a crash are removed at start; other live processes' uploads are not", async (t) => {
  const first = await startServer();
  const home = first.aliceHome;
  await first.server.recovered;
  await first.server.close(0);
  const host = new StorageOpener().hostTag;
  const dead = await deadPid();
  const legacy = '.wharf-up-0123456789abcdef';
  const crashed = `.wharf-up-${host}-${dead}-00112233`;
  const otherHost = `.wharf-up-ffffffff-${dead}-00112233`;
  const livePeer = `.wharf-up-${host}-${process.ppid}-00112233`;
  await mkdir(join(home, 'sub'));
  const { utimes } = await import('node:fs/promises');
  const past = new Date(Date.now() - 60_000);
  for (const [dir, name] of [
    ['', legacy],
    ['sub', crashed],
    ['', otherHost],
    ['', livePeer],
  ] as const) {
    await writeFile(join(home, dir, name), 'partial');
    await utimes(join(home, dir, name), past, past);
  }
  await writeFile(join(home, 'keep.txt'), 'keep');
  const server = new WharfServer(first.config);
  const { ftp } = await server.listen();
  const sessions: RawSession[] = [];
  t.after(async () => {
    for (const s of sessions) s.close();
    await server.close(0);
    await first.close();
  });
  assert.equal(await server.recovered, 2);
  assert.deepEqual((await readdir(home)).sort(), [otherHost, livePeer, 'keep.txt', 'sub'].sort());
  assert.deepEqual(await readdir(join(home, 'sub')), []);
  // And a normal download still works on the restarted server.
  const s = await RawSession.open(ftp.port);
  sessions.push(s);
  await s.login('alice', 'secret');
  const d = await s.passive();
  assert.equal((await s.cmd('RETR keep.txt')).code, 150);
  assert.equal((await readAll(d)).toString(), 'keep');
});
