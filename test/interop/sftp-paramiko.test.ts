/**
 * Interop at the protocol level: paramiko (Debian's python3-paramiko)
 * drives requests that OpenSSH's sftp never sends in that shape: writes
 * in flight out of order, reads at random offsets, SETSTAT, plain RENAME
 * next to posix-rename, an unknown extension, and a client that vanishes
 * in the middle of an upload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bytes, describe, sha256 } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';
import { holdParamiko, jsonLines, makeKeys, paramiko, startSftp, type TestKeys } from '../helpers/sftp.js';

let keys: TestKeys;
before(async () => {
  keys = await makeKeys();
});
after(() => keys.cleanup());

const OUT_OF_ORDER = `
t, s = connect(sys.argv[1])
src = open(sys.argv[2], 'rb').read()
CH = 32768
offsets = list(range(0, len(src), CH))
orders = {'reverse': list(reversed(offsets)), 'shuffled': random.Random(7).sample(offsets, len(offsets))}
for name, order in orders.items():
    f = s.open(name + '.bin', 'wb', bufsize=0)
    f.set_pipelined(True)
    for o in order:
        f.seek(o)
        f.write(src[o:o + CH])
    f.close()
    out(name=name, first=order[0], writes=len(order))
# paramiko ignores an error status on CLOSE: a spy on _convert_status records the codes.
codes = []
convert = s._convert_status
def spy(msg):
    m = paramiko.Message(msg.asbytes())
    m.get_int()
    codes.append(m.get_int())
    return convert(msg)
s._convert_status = spy
# A gap that is never filled: the upload is refused at CLOSE and nothing is stored.
f = s.open('gap.bin', 'wb', bufsize=0)
f.write(src[:CH])
f.seek(3 * CH)
f.write(src[3 * CH:4 * CH])
del codes[:]
f.close()
out(gap_close=codes[:])
# Going back over bytes already written is refused, and then the whole upload: the old file stays.
s.open('back.bin', 'w').write('previous')
f = s.open('back.bin', 'wb', bufsize=0)
f.write(src[:2 * CH])
f.seek(CH)
out(rewrite=attempt(lambda: f.write(src[CH:2 * CH])))
del codes[:]
f.close()
out(rewrite_close=codes[:])
s._convert_status = convert
out(back=s.open('back.bin').read().decode())
out(listing=sorted(s.listdir('.')))
t.close()
`;

test('paramiko: pipelined writes sent in reverse and shuffled order store a byte-exact file; a gap or a rewrite is refused', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const data = bytes(2 * 1024 * 1024 + 1000, 51);
  const src = path.join(tmp, 'src.bin');
  await fs.writeFile(src, data);
  const r = await paramiko(OUT_OF_ORDER, [port, src]);
  assert.equal(r.code, 0, describe(r));
  const lines = jsonLines(r);
  assert.deepEqual(
    lines.filter((l) => 'name' in l).map((l) => [l.name, l.writes]),
    [
      ['reverse', 65],
      ['shuffled', 65],
    ],
  );
  for (const name of ['reverse', 'shuffled']) assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, `${name}.bin`))), sha256(data), name);
  const v = Object.assign({}, ...lines) as { gap_close: number[]; rewrite: { ok: boolean; text: string }; rewrite_close: number[]; back: string; listing: string[] };
  assert.deepEqual(v.gap_close, [4], 'CLOSE of an upload with a gap: SSH_FX_FAILURE');
  assert.equal(v.rewrite.ok, false, JSON.stringify(v.rewrite));
  assert.match(v.rewrite.text, /not supported/);
  assert.deepEqual(v.rewrite_close, [8], 'CLOSE after a refused write: the refusal again');
  assert.equal(v.back, 'previous');
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'back.bin'), 'utf8'), 'previous');
  assert.deepEqual(v.listing, ['back.bin', 'reverse.bin', 'shuffled.bin']);
  assert.deepEqual(
    (await fs.readdir(srv.aliceHome)).filter((n) => n.startsWith('.')),
    [],
  );
});

const READS = `
t, s = connect(sys.argv[1])
data = open(sys.argv[2], 'rb').read()
rnd = random.Random(int(sys.argv[3]))
f = s.open('big.bin', 'rb')
bad = []
for i in range(60):
    o = rnd.randrange(0, len(data) + 10)
    n = rnd.randrange(1, 100000)
    f.seek(o)
    if f.read(n) != data[o:o + n]:
        bad.append([o, n])
chunks = sorted([(rnd.randrange(0, len(data) - 5000), rnd.randrange(1, 5000)) for _ in range(40)], key=lambda c: -c[0])
got = list(f.readv(chunks))
bad += [list(c) for c, b in zip(chunks, got) if b != data[c[0]:c[0] + c[1]]]
f.seek(len(data))
out(bad=bad, eof=f.read(10).decode('latin-1'), size=f.stat().st_size)
f.close()
t.close()
`;

test('paramiko: reads at random offsets (seek + read, and readv in descending order) return the right bytes', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const data = bytes(3 * 1024 * 1024 + 77, 52);
  await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), data);
  const local = path.join(tmp, 'big.bin');
  await fs.writeFile(local, data);
  const r = await paramiko(READS, [port, local, 1234]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(jsonLines(r), [{ bad: [], eof: '', size: data.length }]);
});

const METADATA = `
t, s = connect(sys.argv[1])
s.open('f.txt', 'w').write('x')
s.utime('f.txt', (1000000000, 1234567890))
out(mtime=s.stat('f.txt').st_mtime)
out(missing=attempt(lambda: s.stat('no/such/file')))
out(missing_open=attempt(lambda: s.open('nope.txt', 'r')))
s.mkdir('dir')
out(remove_dir=attempt(lambda: s.remove('dir')))
s.open('a.txt', 'w').write('A')
s.open('b.txt', 'w').write('B')
out(rename=attempt(lambda: s.rename('a.txt', 'b.txt')))
out(b_after_rename=s.open('b.txt').read().decode())
s.posix_rename('a.txt', 'b.txt')
out(b_after_posix=s.open('b.txt').read().decode(), listing=sorted(s.listdir('.')))
out(setsize=attempt(lambda: s.truncate('b.txt', 0)))
t.close()
`;

test('paramiko: setstat mtime; stat of a missing file is errno 2; remove of a directory fails; RENAME refuses a target, posix-rename replaces it', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key);
  const r = await paramiko(METADATA, [port]);
  assert.equal(r.code, 0, describe(r));
  type Outcome = { ok: boolean; errno: number | null; text: string; type: string };
  const v = Object.assign({}, ...jsonLines(r)) as Record<'missing' | 'missing_open' | 'remove_dir' | 'rename' | 'setsize', Outcome> &
    Record<'b_after_rename' | 'b_after_posix', string> & { mtime: number; listing: string[] };
  assert.equal(v.mtime, 1234567890);
  assert.equal((await fs.stat(path.join(srv.aliceHome, 'f.txt'))).mtime.getTime(), 1234567890_000);
  assert.deepEqual([v.missing.ok, v.missing.errno, v.missing.type], [false, 2, 'FileNotFoundError']);
  assert.deepEqual([v.missing_open.ok, v.missing_open.errno], [false, 2]);
  assert.equal(v.remove_dir.ok, false, JSON.stringify(v.remove_dir));
  assert.match(v.remove_dir.text, /is a directory/);
  assert.ok((await fs.stat(path.join(srv.aliceHome, 'dir'))).isDirectory());
  assert.equal(v.rename.ok, false, JSON.stringify(v.rename));
  assert.match(v.rename.text, /exists/);
  assert.equal(v.b_after_rename, 'B');
  assert.equal(v.b_after_posix, 'A');
  assert.deepEqual(v.listing, ['b.txt', 'dir', 'f.txt']);
  assert.equal(v.setsize.ok, false, JSON.stringify(v.setsize));
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'b.txt'), 'utf8'), 'A');
});

// paramiko has no public call for an arbitrary extension: SFTPClient._request sends one, and wrapping
// _convert_status shows the status code it raises an IOError for.
const EXTENDED = `
from paramiko.sftp import CMD_EXTENDED
t, s = connect(sys.argv[1])
codes = []
convert = s._convert_status
def spy(msg):
    m = paramiko.Message(msg.asbytes())
    m.get_int()
    codes.append(m.get_int())
    return convert(msg)
s._convert_status = spy
r = attempt(lambda: s._request(CMD_EXTENDED, 'no-such-thing@example.com', 'x'))
s._convert_status = convert
out(result=r, codes=codes, still_works=s.listdir('.') is not None)
t.close()
`;

test('paramiko: an unknown extended request gets SSH_FX_OP_UNSUPPORTED and the session goes on', async (t) => {
  const { port } = await startSftp(t, keys.host.key);
  const r = await paramiko(EXTENDED, [port]);
  assert.equal(r.code, 0, describe(r));
  const [v] = jsonLines(r) as [{ result: { ok: boolean; text: string }; codes: number[]; still_works: boolean }];
  assert.deepEqual(v.codes, [8]);
  assert.equal(v.result.ok, false);
  assert.match(v.result.text, /no-such-thing@example\.com is not supported/);
  assert.equal(v.still_works, true);
});

const UPLOAD_THEN_VANISH = `
t, s = connect(sys.argv[1])
s.put(sys.argv[2], 'doc.bin')
out(step='v1')
f = s.open('doc.bin', 'wb')
chunk = b'2' * 32768
for i in range(64):
    f.write(chunk)
f.flush()
out(step='half')
sys.stdin.read()
`;

test('paramiko: a client killed in the middle of an upload leaves the old file untouched and no temporaries', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const v1 = bytes(1024 * 1024 + 3, 53);
  const src = path.join(tmp, 'v1.bin');
  await fs.writeFile(src, v1);
  const first = waitForEvent(srv.server, 'transfer', (e) => e.direction === 'upload' && e.ok);
  const aborted = waitForEvent(srv.server, 'transfer', (e) => e.direction === 'upload' && !e.ok);
  const gone = waitForEvent(srv.server, 'disconnect', (e) => e.protocol === 'sftp');
  const client = holdParamiko(UPLOAD_THEN_VANISH, [port, src]);
  try {
    await client.waitFor(/"step": "half"/);
  } finally {
    await client.kill();
  }
  assert.equal((await first).bytes, v1.length);
  const e = await aborted;
  assert.equal(e.path, '/doc.bin');
  assert.equal(e.bytes, 64 * 32768);
  await gone;
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'doc.bin'))), sha256(v1));
  assert.deepEqual(await fs.readdir(srv.aliceHome), ['doc.bin']);
  const r = await paramiko(`t, s = connect(sys.argv[1])\nout(ls=[(a.filename, a.st_size) for a in s.listdir_attr('.')])\nt.close()`, [port]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(jsonLines(r), [{ ls: [['doc.bin', v1.length]] }]);
});

const STALL = `
t, s = connect(sys.argv[1], 'anonymous', 'guest@example.org')
f = s.open('pub/data.bin', 'rb')
f.read(10)
out(step='open')
sys.stdin.read()
`;

const SLOW_UPLOAD = `
import time
t, s = connect(sys.argv[1])
f = s.open('slow.bin', 'wb')
started = time.monotonic()
sent = 0
while time.monotonic() - started < 2.0:
    f.write(b's' * 1000)
    sent += 1000
    time.sleep(0.2)
f.close()
out(done=True, sent=sent, seconds=round(time.monotonic() - started, 1))
t.close()
`;

test('paramiko: the idle timeout ends a session that holds a file open and sends nothing, not one that keeps transferring', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key, { server: { idle_timeout: 1 } });
  const slow = await paramiko(SLOW_UPLOAD, [port]);
  assert.equal(slow.code, 0, describe(slow));
  const [result] = jsonLines(slow) as { done: boolean; sent: number; seconds: number }[];
  assert.equal(result?.done, true);
  // Writing for twice the idle timeout, a little at a time, kept the session alive; every byte arrived.
  assert.ok((result?.seconds ?? 0) >= 2, JSON.stringify(result));
  assert.equal((await fs.stat(path.join(srv.aliceHome, 'slow.bin'))).size, result?.sent);

  const gone = waitForEvent(srv.server, 'disconnect', (e) => e.protocol === 'sftp');
  const stalled = holdParamiko(STALL, [port]);
  try {
    await stalled.waitFor(/"step": "open"/);
    await gone;
  } finally {
    await stalled.kill();
  }
});
