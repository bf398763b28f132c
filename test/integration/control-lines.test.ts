/**
 * One reply per command line, even for floods (issue 10, item 3), on a
 * live server: a line over 4 KiB gets exactly one 500, sent when the line
 * ends, and the session goes on in step (the next NOOP reads its 200); a
 * line that runs past the 256 KiB flood cap without a line end gets
 * exactly one 421 and the connection closes. Never both for one line.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession, type RawReply } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';

const KiB = 1024;

async function setup(t: TestContext): Promise<{ srv: TestServer; open: () => Promise<RawSession> }> {
  const srv = await startServer();
  const sessions: RawSession[] = [];
  t.after(async () => {
    for (const s of sessions) s.close();
    await srv.close();
  });
  const open = async () => {
    const s = await RawSession.open(srv.port);
    sessions.push(s);
    await s.login();
    return s;
  };
  return { srv, open };
}

/** Writes `data` in chunks of `size`, waiting for each write to be handed to the kernel. */
async function send(s: RawSession, data: Buffer, size: number): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    if (!s.socket.write(data.subarray(i, i + size))) await once(s.socket, 'drain');
  }
}

/** Sends a NOOP and asserts that the very next reply is its 200: the session is in step. */
async function inStep(s: RawSession, why: string): Promise<void> {
  const r = await s.cmd('NOOP');
  assert.equal(r.code, 200, `${why}: ${r.raw}`);
}

/** A command line of `length` bytes (without its line end). */
const longLine = (length: number) => Buffer.from('STOR ' + 'n'.repeat(length - 5));

test('a line of 4 KiB + 1, 8 KiB or 64 KiB gets one 500 and the session stays in step, in any chunking', async (t) => {
  const { open } = await setup(t);
  const s = await open();
  for (const length of [4 * KiB + 1, 8 * KiB, 64 * KiB]) {
    for (const size of [1, 7, 1460, 4096, 65536].filter((n) => length <= 8 * KiB || n > 1)) {
      await send(s, Buffer.concat([longLine(length), Buffer.from('\r\n')]), size);
      const r = await s.read();
      assert.equal(r?.code, 500, `${length} bytes in chunks of ${size}: ${r?.raw}`);
      assert.match(r.raw, /too long/i);
      await inStep(s, `after ${length} bytes in chunks of ${size}`);
    }
  }
  // 4 KiB exactly is a command like any other (here an unknown path: 550, not 500).
  const exact = await s.cmd(longLine(4 * KiB).toString());
  assert.notEqual(exact.code, 500, exact.raw);
  await inStep(s, 'after 4 KiB');
});

test('a long line without its end gets no reply until the end comes, then one 500', async (t) => {
  const { open } = await setup(t);
  const s = await open();
  for (const length of [4 * KiB + 1, 8 * KiB, 64 * KiB, 200 * KiB]) {
    await send(s, longLine(length), 4096);
    // Other bytes of the same line, then its end, in separate writes.
    await send(s, Buffer.from('tail'), 1);
    await send(s, Buffer.from('\r\n'), 1);
    // An early 500 (when the line passed 4 KiB) would be read here and the NOOP would then read a second reply.
    assert.equal((await s.read())?.code, 500, `${length} bytes`);
    await inStep(s, `after ${length} bytes`);
  }
});

test('pipelined: NOOP, a 10 KiB line, NOOP in one write get 200, 500, 200 in order', async (t) => {
  const { open } = await setup(t);
  const s = await open();
  s.write(Buffer.concat([Buffer.from('NOOP\r\n'), longLine(10 * KiB), Buffer.from('\r\nPWD\r\nNOOP\r\n')]));
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push(((await s.read()) as RawReply).code);
  assert.deepEqual(codes, [200, 500, 257, 200]);
  await inStep(s, 'after the pipeline');
});

for (const end of ['\r\n', '']) {
  test(`a 1 MiB line ${end ? 'with' : 'without'} CR LF gets exactly one 421 and the connection closes`, async (t) => {
    const { srv, open } = await setup(t);
    const s = await open();
    const gone = waitForEvent(srv.server, 'disconnect');
    // The server stops reading at 256 KiB; what it does not read is lost with the connection.
    s.write(Buffer.concat([longLine(1024 * KiB), Buffer.from(end)]));
    const r = await s.read();
    assert.equal(r?.code, 421, r?.raw);
    assert.match(r.raw, /too long/i);
    assert.equal(await s.read(), null, 'a second reply after the 421');
    await s.waitClosed();
    await gone;
    // Another session is not disturbed.
    await inStep(await open(), 'a second session');
  });
}

test('just under the flood cap is a long line (500); just over it, 421', async (t) => {
  const { open } = await setup(t);
  const s = await open();
  await send(s, Buffer.concat([longLine(256 * KiB), Buffer.from('\r\n')]), 65536);
  assert.equal((await s.read())?.code, 500);
  await inStep(s, 'after 256 KiB');
  await send(s, longLine(256 * KiB + 2), 65536);
  assert.equal((await s.read())?.code, 421);
  assert.equal(await s.read(), null);
});
