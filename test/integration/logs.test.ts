import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';

test('transfer_log gets one xferlog line per transfer', async (t) => {
  const srv = await startServer({ log: { transfer_log: 'xfer.log' } });
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login('anonymous', 'me@example.com');
  await s.cmd('TYPE I');
  let d = await s.passive();
  assert.equal((await s.cmd('RETR hello.txt')).code, 150);
  await readAll(d);
  assert.equal((await s.read())?.code, 226);
  d = await s.passive();
  assert.equal((await s.cmd('STOR incoming/new.txt')).code, 150);
  d.end('twelve bytes');
  assert.equal((await s.read())?.code, 226);
  assert.equal((await s.cmd('QUIT')).code, 221);
  await srv.server.close(0);
  const lines = (await readFile(join(srv.dir, 'xfer.log'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, / 127\.0\.0\.1 14 \/hello\.txt b _ o a me@example\.com ftp 0 \* c$/);
  assert.match(lines[1]!, / 127\.0\.0\.1 12 \/incoming\/new\.txt b _ i a me@example\.com ftp 0 \* c$/);
});

test('max_rate caps an anonymous download', async (t) => {
  const srv = await startServer({ anonymous: { max_rate: 64 * 1024 } });
  await writeFile(join(srv.root, 'slow.bin'), Buffer.alloc(160 * 1024, 3));
  const s = await RawSession.open(srv.port);
  t.after(async () => {
    s.close();
    await srv.close();
  });
  await s.login();
  await s.cmd('TYPE I');
  const d = await s.passive();
  const t0 = performance.now();
  assert.equal((await s.cmd('RETR slow.bin')).code, 150);
  const body = await readAll(d);
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(body.length, 160 * 1024);
  assert.equal((await s.read())?.code, 226);
  // 160 KiB at 64 KiB/s cannot take less than 2.5 s (less the first slice).
  assert.ok(seconds >= 2.2, `took ${seconds.toFixed(2)} s`);
});
