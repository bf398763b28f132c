import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'basic-ftp';
import { Writable } from 'node:stream';
// The package's own entry points, as a user imports them.
import { createServer, MemoryVfs, LocalVfs, type TransferEvent } from 'wharf/server';
import { leakCheck } from '../helpers/leaks.js';
import { curl, describe, sha256 } from '../helpers/clients.js';

function sink(): { stream: Writable; data(): Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, data: () => Buffer.concat(chunks) };
}

test('the CONTRACT library example runs as written, and a real client downloads from it', async () => {
  const leaks = leakCheck();
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    anonymous: { enabled: true, root: new MemoryVfs({ 'pub/hello.txt': 'hi\n' }) },
  });
  const { ftp } = await server.listen();
  const events: TransferEvent[] = [];
  server.on('transfer', (e) => events.push(e));
  assert.equal(ftp.host, '127.0.0.1');
  assert.ok(ftp.port > 0);

  const r = await curl([`ftp://127.0.0.1:${ftp.port}/pub/hello.txt`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(r.stdout.toString(), 'hi\n');

  assert.equal(events.length, 1);
  const e = events[0] as TransferEvent;
  assert.equal(e.direction, 'download');
  assert.equal(e.path, '/pub/hello.txt');
  assert.equal(e.bytes, 3);
  assert.equal(e.ok, true);
  assert.equal(e.protocol, 'ftp');
  assert.equal(e.user, 'anonymous');
  assert.equal(LocalVfs.name, 'LocalVfs');
  await server.close();
  await leaks();
});

test('library: events for login, uploads, mkdir, rename and delete; a Vfs as a home', async () => {
  const leaks = leakCheck();
  const { hashPassword } = await import('../../src/auth/password.js');
  const home = new MemoryVfs();
  const server = createServer({
    server: { host: '127.0.0.1', port: 0, login_failure_delay: 0 },
    users: [{ name: 'bob', password: await hashPassword('pw'), home }],
  });
  const seen: string[] = [];
  for (const name of ['connect', 'login', 'login-failed', 'transfer-start', 'transfer', 'mkdir', 'rename', 'delete', 'logout', 'disconnect'] as const) {
    const listener = (e: { path?: string; from?: string }) => void seen.push(`${name}${e.path ? ' ' + e.path : ''}${e.from ? ' from ' + e.from : ''}`);
    server.on(name, listener as never);
  }
  const { ftp } = await server.listen();
  const bad = new Client(5000);
  await assert.rejects(bad.access({ host: '127.0.0.1', port: ftp.port, user: 'bob', password: 'nope' }), /530/);
  bad.close();
  const client = new Client(5000);
  await client.access({ host: '127.0.0.1', port: ftp.port, user: 'bob', password: 'pw' });
  const body = Buffer.from('uploaded through the library\n');
  const { Readable } = await import('node:stream');
  await client.uploadFrom(Readable.from([body]), 'a.txt');
  await client.ensureDir('/docs');
  await client.rename('/a.txt', '/docs/b.txt');
  const got = sink();
  await client.downloadTo(got.stream, '/docs/b.txt');
  assert.equal(sha256(got.data()), sha256(body));
  await client.remove('/docs/b.txt');
  client.close();
  await server.close();
  // The home's content is the library user's own object.
  assert.deepEqual([...(await collect(home.list('/docs')))], []);
  const order = seen.filter((s) => !s.startsWith('connect') && !s.startsWith('disconnect'));
  assert.deepEqual(order, [
    'login-failed',
    'login',
    'transfer-start /a.txt',
    'transfer /a.txt',
    'mkdir /docs',
    'rename /docs/b.txt from /a.txt',
    'transfer-start /docs/b.txt',
    'transfer /docs/b.txt',
    'delete /docs/b.txt',
    'logout',
  ]);
  assert.equal(seen.filter((s) => s === 'connect').length, 2);
  assert.equal(seen.filter((s) => s === 'disconnect').length, 2);
  await leaks();
});

test('library: an invalid config object is refused with the same messages as the TOML', () => {
  assert.throws(() => createServer({ server: { port: 'x' } }), /server\.port/);
  assert.throws(() => createServer({ anonymous: { root: 42 } }), /anonymous\.root/);
  assert.throws(() => createServer({ bogus: true }), /unknown setting "bogus"/);
});

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of it) out.push(...batch);
  return out;
}
