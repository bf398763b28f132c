import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, MemoryVfs } from 'wharf/server';
import { RawSession } from '../helpers/raw.js';
import { curl, describe } from '../helpers/clients.js';
import { leakCheck } from '../helpers/leaks.js';
import { secretHash } from '../helpers/server.js';

const LIMITED = { capabilities: { append: false, resumeUpload: false, setMtime: false } };

async function start(home: MemoryVfs, anon: MemoryVfs) {
  const server = createServer({
    server: { host: '127.0.0.1', port: 0, login_failure_delay: 0 },
    anonymous: { enabled: true, root: anon },
    users: [{ name: 'bob', password: await secretHash(), home }],
  });
  const { ftp } = await server.listen();
  return { server, port: ftp.port };
}

function feat(r: { lines: string[] }): string[] {
  return r.lines.slice(1, -1).map((l) => l.trim());
}

test('a backend without append, offset writes and mtimes: not in FEAT, APPE/MFMT/REST+STOR refused with 502', async (t) => {
  const leaks = leakCheck();
  const { server, port } = await start(new MemoryVfs({ 'a.txt': 'abc' }, LIMITED), new MemoryVfs({ 'pub/x': 'x' }, LIMITED));
  const s = await RawSession.open(port);
  t.after(async () => {
    s.close();
    await server.close();
    await leaks();
  });
  assert.equal((await s.read())?.code, 220);
  // Before login, FEAT describes the anonymous root's storage.
  let f = feat(await s.cmd('FEAT'));
  assert.ok(f.includes('SIZE') && f.includes('REST STREAM'), f.join('|'));
  assert.ok(!f.includes('MFMT'), f.join('|'));
  await s.cmd('USER bob');
  assert.equal((await s.cmd('PASS secret')).code, 230);
  f = feat(await s.cmd('FEAT'));
  assert.ok(!f.includes('MFMT'), f.join('|'));
  const appe = await s.cmd('APPE a.txt');
  assert.equal(appe.code, 502);
  assert.match(appe.lines.join(' '), /APPE is not supported by this server's storage/);
  assert.equal((await s.cmd('MFMT 20200101000000 a.txt')).code, 502);
  assert.equal((await s.cmd('REST 1')).code, 350);
  const stor = await s.cmd('STOR a.txt');
  assert.equal(stor.code, 502);
  assert.match(stor.lines.join(' '), /Resuming uploads/);
  // What the backend can do still works: a whole upload, and a download from an offset.
  const r = await curl(['-u', 'bob:secret', '-T', '-', `ftp://127.0.0.1:${port}/b.txt`], { input: 'whole' });
  assert.equal(r.code, 0, describe(r));
  const got = await curl(['-u', 'bob:secret', '-C', '2', `ftp://127.0.0.1:${port}/b.txt`]);
  assert.equal(got.stdout.toString(), 'ole');
  // curl's append gets the refusal, and the file stays as it was.
  const app = await curl(['-u', 'bob:secret', '-a', '-T', '-', `ftp://127.0.0.1:${port}/b.txt`], { input: 'more' });
  assert.notEqual(app.code, 0);
  assert.equal((await curl(['-u', 'bob:secret', `ftp://127.0.0.1:${port}/b.txt`])).stdout.toString(), 'whole');
});

test('a full backend advertises MFMT and takes APPE and REST+STOR', async (t) => {
  const leaks = leakCheck();
  const { server, port } = await start(new MemoryVfs({ 'a.txt': 'abc' }), new MemoryVfs());
  const s = await RawSession.open(port);
  t.after(async () => {
    s.close();
    await server.close();
    await leaks();
  });
  await s.login('bob', 'secret');
  assert.ok(feat(await s.cmd('FEAT')).includes('MFMT'));
  assert.equal((await s.cmd('MFMT 20200101000000 a.txt')).code, 213);
  assert.equal((await s.cmd('MDTM a.txt')).lines[0], '20200101000000');
  const r = await curl(['-u', 'bob:secret', '-a', '-T', '-', `ftp://127.0.0.1:${port}/a.txt`], { input: 'def' });
  assert.equal(r.code, 0, describe(r));
  assert.equal((await curl(['-u', 'bob:secret', `ftp://127.0.0.1:${port}/a.txt`])).stdout.toString(), 'abcdef');
});
