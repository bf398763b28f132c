/**
 * ABOR wrapped in Telnet (issue 10, item 2) on a live server: the bytes a
 * BSD client's abort leaves on a Linux server (IAC IP, a lone DM, ABOR)
 * cut the running transfer at once (ABOR is urgent), and the replies are
 * 426 then 226, then the next command's own, in step. Sent by hand, split
 * at every boundary, in the other Telnet spellings, with STAT, with no
 * transfer running, and through a real TCP urgent send (Python's socket
 * with MSG_OOB), where the kernel itself takes the urgent byte out.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';
import { describe, python } from '../helpers/clients.js';

const IAC = 0xff;
const IP = 0xf4;
const DM = 0xf2;
/** 4 MiB at 64 KiB/s: a transfer that is still running when the abort comes. */
const BIG = 4 * 1024 * 1024;

async function setup(t: TestContext): Promise<{ srv: TestServer; s: RawSession }> {
  const srv = await startServer({ anonymous: { max_rate: 64 * 1024 } });
  await writeFile(join(srv.root, 'big.bin'), Buffer.alloc(BIG, 7));
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  assert.equal((await s.cmd('TYPE I')).code, 200);
  return { srv, s };
}

/** Starts RETR big.bin and resolves once its data flows; returns the data socket. */
async function startTransfer(s: RawSession): Promise<Socket> {
  const data = await s.passive();
  data.on('error', () => undefined);
  assert.equal((await s.cmd('RETR big.bin')).code, 150);
  await once(data, 'data');
  return data;
}

/** Writes the parts one by one, each handed to the kernel before the next. */
async function writeParts(s: RawSession, parts: Buffer[]): Promise<void> {
  for (const p of parts) await new Promise<void>((resolve, reject) => s.socket.write(p, (err) => (err ? reject(err) : resolve())));
}

/** Aborts the running transfer with `bytes` cut into `parts`; asserts 426, 226 and a cut transfer. */
async function abortWith(srv: TestServer, s: RawSession, parts: Buffer[], what: string): Promise<void> {
  const data = await startTransfer(s);
  const ended = waitForEvent(srv.server, 'transfer');
  await writeParts(s, parts);
  const transfer = await ended;
  assert.equal(transfer.ok, false, `${what}: the transfer ran to its end`);
  assert.ok(transfer.bytes < BIG, what);
  assert.equal((await s.read())?.code, 426, what);
  assert.equal((await s.read())?.code, 226, what);
  data.destroy();
  assert.equal((await s.cmd('NOOP')).code, 200, `${what}: out of step`);
}

const abort = Buffer.from([IAC, IP, DM, ...Buffer.from('ABOR\r\n')]);

test('IAC IP, lone DM, ABOR during RETR: 426 then 226, split at every boundary, all in one session', async (t) => {
  const { srv, s } = await setup(t);
  for (let i = 0; i <= abort.length; i++) {
    await abortWith(srv, s, [abort.subarray(0, i), abort.subarray(i)], `split at ${i}`);
  }
  await abortWith(
    srv,
    s,
    [...abort].map((b) => Buffer.from([b])),
    'byte by byte',
  );
});

test('the other spellings of the abort (IAC IP IAC DM ABOR, IAC IP IAC ABOR, plain ABOR) work the same', async (t) => {
  const { srv, s } = await setup(t);
  await abortWith(srv, s, [Buffer.from([IAC, IP, IAC]), Buffer.from([DM, ...Buffer.from('ABOR\r\n')])], 'urgent data read inline');
  await abortWith(srv, s, [Buffer.from([IAC, IP]), Buffer.from([IAC, ...Buffer.from('ABOR\r\n')])], '4.3BSD style');
  await abortWith(srv, s, [Buffer.from('ABOR\r\n')], 'plain ABOR');
});

test('IAC IP, lone DM, STAT during RETR is answered at once (213), the transfer goes on', async (t) => {
  const { srv, s } = await setup(t);
  const data = await startTransfer(s);
  await writeParts(s, [Buffer.from([IAC, IP]), Buffer.from([DM, ...Buffer.from('STAT\r\n')])]);
  const stat = await s.read();
  assert.equal(stat?.code, 213, stat?.raw);
  assert.match(stat.raw, /sending \/big\.bin/);
  // Still running: the abort that follows cuts it.
  const ended = waitForEvent(srv.server, 'transfer');
  await writeParts(s, [abort]);
  assert.equal((await ended).ok, false);
  assert.equal((await s.read())?.code, 426);
  assert.equal((await s.read())?.code, 226);
  data.destroy();
  assert.equal((await s.cmd('NOOP')).code, 200);
});

test('IAC IP, lone DM, ABOR with no transfer: 225, in step', async (t) => {
  const { s } = await setup(t);
  for (let i = 0; i <= abort.length; i++) {
    await writeParts(s, [abort.subarray(0, i), abort.subarray(i)]);
    const r = await s.read();
    assert.equal(r?.code, 225, `split at ${i}: ${r?.raw}`);
    assert.equal((await s.cmd('NOOP')).code, 200, `split at ${i}`);
  }
});

/** A stdlib-only Python client that aborts like inetutils, with a real urgent send. */
const OOB_CLIENT = `
import json, re, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
f = s.makefile('rb')
def reply():
    first = f.readline().decode('latin1')
    text = first
    if first[3:4] == '-':
        while True:
            line = f.readline().decode('latin1')
            text += line
            if line[:4] == first[:3] + ' ' or not line:
                break
    return text
def cmd(c):
    s.sendall(c.encode() + b'\\r\\n')
    return reply()
out = {'greeting': reply()[:3], 'user': cmd('USER anonymous')[:3], 'pass': cmd('PASS oob@example.com')[:3], 'type': cmd('TYPE I')[:3]}
port = int(re.search(r'\\|\\|\\|(\\d+)\\|', cmd('EPSV')).group(1))
d = socket.create_connection(('127.0.0.1', port), timeout=10)
out['retr'] = cmd('RETR big.bin')[:3]
out['first'] = len(d.recv(1024))
s.send(bytes([255, 244, 255]), socket.MSG_OOB)
s.sendall(bytes([242]) + b'ABOR\\r\\n')
try:
    while d.recv(65536):
        pass
except OSError:
    pass
out['abort'] = [reply()[:3], reply()[:3]]
out['noop'] = cmd('NOOP')[:3]
out['quit'] = cmd('QUIT')[:3]
print(json.dumps(out))
`;

test('a real TCP urgent abort (send IAC IP IAC with MSG_OOB, then DM ABOR) gets 426 then 226', async (t) => {
  const { srv } = await setup(t);
  const ended = waitForEvent(srv.server, 'transfer');
  const r = await python(OOB_CLIENT, [String(srv.port)]);
  assert.equal(r.code, 0, describe(r));
  const out = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
  assert.deepEqual(out, { greeting: '220', user: '331', pass: '230', type: '200', retr: '150', first: out.first, abort: ['426', '226'], noop: '200', quit: '221' }, describe(r));
  assert.equal((await ended).ok, false);
});
