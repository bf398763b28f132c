/**
 * What SFTP sessions report: `transfer` events and xferlog lines with the
 * service name `sftp` and the bytes that crossed the wire (complete `c`,
 * or incomplete `i` for an upload cut off), and the file events (mkdir,
 * rename, delete, rmdir) with protocol, user and virtual path.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bytes, describe } from '../helpers/clients.js';
import { waitForEvent, waitForEvents } from '../helpers/events.js';
import { holdParamiko, makeKeys, sftpBatch, startSftp, waitForFile, type TestKeys } from '../helpers/sftp.js';

let keys: TestKeys;
before(async () => {
  keys = await makeKeys();
});
after(() => keys.cleanup());

/** An xferlog line: time, seconds, host, bytes, path, type, action, direction, access, user, service, auth, id, status. */
function xferRe(bytes: number, file: string, direction: 'i' | 'o', access: 'r' | 'a', user: string, status: 'c' | 'i'): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(
    `^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4} \\d+ 127\\.0\\.0\\.1 ${bytes} ${esc(file)} b _ ${direction} ${access} ${esc(user)} sftp 0 \\* ${status}$`,
  );
}

test('xferlog: SFTP uploads and downloads are logged with service sftp and the right byte counts', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key, { log: { transfer_log: 'xfer.log' } });
  const data = bytes(300_001, 71);
  const src = path.join(tmp, 'up.bin');
  await fs.writeFile(src, data);
  const drop = path.join(tmp, 'drop.txt');
  await fs.writeFile(drop, 'drop\n');
  const transfers = waitForEvents(srv.server, 'transfer', 4);
  const alice = await sftpBatch(port, { user: 'alice', password: 'secret' }, [`put ${src} up.bin`, `get up.bin ${path.join(tmp, 'back.bin')}`]);
  assert.equal(alice.code, 0, describe(alice));
  const anon = await sftpBatch(port, { user: 'anonymous', password: 'guest@example.org' }, [`get hello.txt ${path.join(tmp, 'hello.txt')}`, `put ${drop} incoming/drop.txt`]);
  assert.equal(anon.code, 0, describe(anon));
  const events = await transfers;
  assert.deepEqual(
    events.map((e) => [e.protocol, e.user, e.direction, e.path, e.bytes, e.ok]),
    [
      ['sftp', 'alice', 'upload', '/up.bin', 300_001, true],
      ['sftp', 'alice', 'download', '/up.bin', 300_001, true],
      ['sftp', 'anonymous', 'download', '/hello.txt', 14, true],
      ['sftp', 'anonymous', 'upload', '/incoming/drop.txt', 5, true],
    ],
  );
  const log = await waitForFile(path.join(srv.dir, 'xfer.log'), (c) => c.split('\n').length > 4);
  const lines = log.trimEnd().split('\n');
  assert.equal(lines.length, 4, log);
  const want = [
    xferRe(300_001, '/up.bin', 'i', 'r', 'alice', 'c'),
    xferRe(300_001, '/up.bin', 'o', 'r', 'alice', 'c'),
    xferRe(14, '/hello.txt', 'o', 'a', 'guest@example.org', 'c'),
    xferRe(5, '/incoming/drop.txt', 'i', 'a', 'guest@example.org', 'c'),
  ];
  want.forEach((re, i) => assert.match(lines[i] ?? '', re, log));
});

const CUT_OFF = `
t, s = connect(sys.argv[1])
f = s.open('cut.bin', 'wb')
for i in range(10):
    f.write(b'x' * 10000)
f.flush()
out(written=100000)
sys.stdin.read()
`;

test('xferlog: an SFTP upload cut off by the client is logged incomplete with the bytes received', async (t) => {
  const { srv, port } = await startSftp(t, keys.host.key, { log: { transfer_log: 'xfer.log' } });
  const cut = waitForEvent(srv.server, 'transfer');
  const client = holdParamiko(CUT_OFF, [port]);
  try {
    await client.waitFor(/"written": 100000/);
  } finally {
    await client.kill();
  }
  const e = await cut;
  assert.deepEqual([e.protocol, e.direction, e.path, e.bytes, e.ok], ['sftp', 'upload', '/cut.bin', 100_000, false]);
  const log = await waitForFile(path.join(srv.dir, 'xfer.log'), (c) => c.endsWith('\n'));
  assert.match(log.trimEnd(), xferRe(100_000, '/cut.bin', 'i', 'r', 'alice', 'i'));
  assert.deepEqual(await fs.readdir(srv.aliceHome), []);
});

test('events: mkdir, rename, delete and rmdir over SFTP carry protocol, user and the virtual path', async (t) => {
  const { srv, port, tmp } = await startSftp(t, keys.host.key);
  const local = path.join(tmp, 'f.txt');
  await fs.writeFile(local, 'f\n');
  const seen: string[] = [];
  const record = (kind: string) => (e: { protocol: string; user: string; path: string; from?: string }) =>
    seen.push(`${kind} ${e.protocol} ${e.user} ${e.from ? `${e.from} -> ` : ''}${e.path}`);
  const handlers = { mkdir: record('mkdir'), rename: record('rename'), delete: record('delete'), rmdir: record('rmdir') };
  for (const [name, fn] of Object.entries(handlers)) srv.server.on(name as 'mkdir', fn);
  t.after(() => {
    for (const [name, fn] of Object.entries(handlers)) srv.server.off(name as 'mkdir', fn);
  });
  const r = await sftpBatch(port, { user: 'alice', password: 'secret' }, ['mkdir d', 'cd d', `put ${local} f.txt`, 'rename f.txt g.txt', 'rm g.txt', 'cd ..', 'rmdir d']);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(seen, ['mkdir sftp alice /d', 'rename sftp alice /d/f.txt -> /d/g.txt', 'delete sftp alice /d/g.txt', 'rmdir sftp alice /d']);
});
