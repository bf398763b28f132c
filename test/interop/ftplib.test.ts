/**
 * Interop: Python's standard-library ftplib against a live Wharf server.
 * Each test runs a small stdlib-only script with `python3`; the script
 * prints one JSON object of observations (replies, names, sha256s) and the
 * test asserts on them and on the files on disk.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { ftplibScript } from '../helpers/ftplib.js';
import { bytes, holdSessions, sha256, tempDir } from '../helpers/clients.js';

async function setup(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; tmp: string }> {
  const srv = await startServer(overrides);
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-ftplib-');
  t.after(cleanup);
  return { srv, tmp: dir };
}

for (const pasv of [true, false]) {
  const mode = pasv ? 'passive' : 'active';

  test(`ftplib (${mode}): anonymous nlst, dir and retrbinary`, async (t) => {
    const { srv } = await setup(t);
    const o = await ftplibScript(
      `
ftp = connect()
out['nlst'] = sorted(ftp.nlst())
out['nlst_pub'] = ftp.nlst('pub')
lines = []
ftp.dir('pub', lines.append)
out['dir_pub'] = lines
out['data'] = sha(fetch(ftp, 'RETR pub/data.bin'))
out['hello'] = fetch(ftp, 'RETR hello.txt').decode()
out['pwd'] = ftp.pwd()
out['cwd'] = ftp.cwd('pub')
out['pwd2'] = ftp.pwd()
out['size'] = ftp.size('data.bin')
out['mlsd'] = [[n, f.get('type'), f.get('size')] for n, f in ftp.mlsd('/', ['type', 'size'])]
out['quit'] = ftp.quit()
`,
      { port: srv.port, pasv },
    );
    assert.match(String(o.welcome), /^220/);
    assert.match(String(o.login), /^230/);
    assert.deepEqual(o.nlst, ['hello.txt', 'incoming', 'pub']);
    assert.deepEqual(
      (o.nlst_pub as string[]).map((n) => n.replace(/^pub\//, '')),
      ['data.bin'],
    );
    assert.equal((o.dir_pub as string[]).length, 1);
    assert.match((o.dir_pub as string[])[0]!, /^-[rwx-]{9}\s+\d+\s+\S+\s+\S+\s+65536 \w{3} +\d+ +[\d:]+ data\.bin$/);
    assert.equal(o.data, sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
    assert.equal(o.hello, 'Hello, world!\n');
    assert.equal(o.pwd, '/');
    assert.match(String(o.cwd), /^250/);
    assert.equal(o.pwd2, '/pub');
    assert.equal(o.size, 65536);
    // MLSD (ftplib.mlsd): cdir/pdir entries aside, the root's names and types, and sizes of files.
    const mlsd = (o.mlsd as [string, string, string | null][]).filter(([, type]) => type === 'file' || type === 'dir');
    assert.deepEqual(mlsd.map(([n, ty]) => `${n}:${ty}`).sort(), ['hello.txt:file', 'incoming:dir', 'pub:dir']);
    assert.equal(mlsd.find(([n]) => n === 'hello.txt')?.[2], '14');
    assert.match(String(o.quit), /^221/);
  });

  test(`ftplib (${mode}): user store, retrieve, append, rename, delete, mkd, rmd`, async (t) => {
    const { srv, tmp } = await setup(t);
    const data = bytes(222_222, 41);
    const src = path.join(tmp, 'src.bin');
    await fs.writeFile(src, data);
    await fs.writeFile(path.join(srv.aliceHome, 'gone.txt'), 'x');
    const o = await ftplibScript(
      `
ftp = connect('alice', 'secret')
with open(o['src'], 'rb') as f:
    out['stor'] = ftp.storbinary('STOR up.bin', f)
out['back'] = sha(fetch(ftp, 'RETR up.bin'))
out['appe'] = ftp.storbinary('APPE log.txt', io.BytesIO(b'one\\n'))
out['appe2'] = ftp.storbinary('APPE log.txt', io.BytesIO(b'two\\n'))
out['storlines'] = ftp.storlines('STOR lines.txt', io.BytesIO(b'a\\nb\\n'))
lines = []
out['retrlines'] = ftp.retrlines('RETR lines.txt', lines.append)
out['lines'] = lines
out['utf8'] = ftp.storbinary('STOR naïve ☃.txt', io.BytesIO(b'snow'))
out['utf8_back'] = fetch(ftp, 'RETR naïve ☃.txt').decode()
out['delete_utf8'] = ftp.delete('naïve ☃.txt')
out['mkd'] = ftp.mkd('new dir')
out['mkd2'] = ftp.mkd('tmp')
out['rmd'] = ftp.rmd('tmp')
out['rename'] = ftp.rename('up.bin', 'new dir/moved.bin')
out['delete'] = ftp.delete('gone.txt')
out['missing'] = attempt(lambda: ftp.delete('gone.txt'))
out['nlst'] = sorted(ftp.nlst())
out['quit'] = ftp.quit()
`,
      { port: srv.port, pasv, src },
    );
    assert.match(String(o.stor), /^226/);
    assert.equal(o.back, sha256(data));
    assert.match(String(o.appe), /^226/);
    assert.match(String(o.storlines), /^226/);
    assert.deepEqual(o.lines, ['a', 'b']);
    assert.match(String(o.utf8), /^226/);
    assert.equal(o.utf8_back, 'snow');
    assert.match(String(o.delete_utf8), /^250/);
    assert.equal(o.mkd, '/new dir');
    assert.match(String(o.rmd), /^250/);
    assert.match(String(o.rename), /^250/);
    assert.match(String(o.delete), /^250/);
    assert.match(String(o.missing), /^550/);
    assert.deepEqual(o.nlst, ['lines.txt', 'log.txt', 'new dir']);
    assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'new dir', 'moved.bin'))), sha256(data));
    assert.equal(await fs.readFile(path.join(srv.aliceHome, 'log.txt'), 'utf8'), 'one\ntwo\n');
    // storlines sends CRLF in TYPE A; the server stores the local (LF) form.
    assert.equal(await fs.readFile(path.join(srv.aliceHome, 'lines.txt'), 'utf8'), 'a\nb\n');
    assert.deepEqual((await fs.readdir(srv.aliceHome)).sort(), ['lines.txt', 'log.txt', 'new dir']);
  });
}

test('ftplib: REST resumes downloads (retrbinary rest=) and uploads (storbinary rest=)', async (t) => {
  const { srv, tmp } = await setup(t);
  const data = bytes(160_000, 42);
  await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), data);
  const src = path.join(tmp, 'src.bin');
  await fs.writeFile(src, data);
  await fs.writeFile(path.join(srv.aliceHome, 'part.bin'), data.subarray(0, 40_000));
  const o = await ftplibScript(
    `
ftp = connect('alice', 'secret')
ftp.voidcmd('TYPE I')
out['tail'] = sha(fetch(ftp, 'RETR big.bin', rest=123457))
out['rest_reply'] = ftp.sendcmd('REST 10')
out['rest0'] = ftp.sendcmd('REST 0')
have = ftp.size('part.bin')
out['have'] = have
with open(o['src'], 'rb') as f:
    f.seek(have)
    out['stor'] = ftp.storbinary('STOR part.bin', f, rest=have)
out['full'] = sha(fetch(ftp, 'RETR part.bin'))
out['quit'] = ftp.quit()
`,
    { port: srv.port, src },
  );
  assert.equal(o.tail, sha256(data.subarray(123_457)));
  assert.match(String(o.rest_reply), /^350/);
  assert.equal(o.have, 40_000);
  assert.match(String(o.stor), /^226/);
  assert.equal(o.full, sha256(data));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'part.bin'))), sha256(data));
});

test('ftplib: anonymous drop box takes new files only', async (t) => {
  const { srv } = await setup(t);
  const o = await ftplibScript(
    `
ftp = connect()
out['stor'] = attempt(lambda: ftp.storbinary('STOR incoming/new.txt', io.BytesIO(b'first\\n')))
out['overwrite'] = attempt(lambda: ftp.storbinary('STOR incoming/new.txt', io.BytesIO(b'second\\n')))
out['appe'] = attempt(lambda: ftp.storbinary('APPE incoming/new.txt', io.BytesIO(b'more\\n')))
out['nlst'] = attempt(lambda: ftp.nlst('incoming'))
out['dir'] = attempt(lambda: ftp.dir('incoming', lambda l: None))
out['retr'] = attempt(lambda: fetch(ftp, 'RETR incoming/new.txt'))
out['rename'] = attempt(lambda: ftp.rename('incoming/new.txt', 'incoming/x.txt'))
out['delete'] = attempt(lambda: ftp.delete('incoming/new.txt'))
out['mkd'] = attempt(lambda: ftp.mkd('incoming/d'))
out['stor_pub'] = attempt(lambda: ftp.storbinary('STOR pub/x.txt', io.BytesIO(b'x')))
out['delete_pub'] = attempt(lambda: ftp.delete('hello.txt'))
out['noop'] = ftp.voidcmd('NOOP')
`,
    { port: srv.port },
  );
  assert.match(String(o.stor), /^226/);
  for (const k of ['overwrite', 'appe', 'stor_pub']) assert.match(String(o[k]), /^55[03]/, `${k}: ${JSON.stringify(o)}`);
  for (const k of ['nlst', 'dir', 'retr', 'rename', 'delete', 'mkd', 'delete_pub']) {
    assert.match(String(o[k]), /^550/, `${k}: ${JSON.stringify(o)}`);
  }
  assert.match(String(o.noop), /^200/);
  assert.deepEqual(await fs.readdir(path.join(srv.root, 'incoming')), ['new.txt']);
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'new.txt'), 'utf8'), 'first\n');
  assert.deepEqual((await fs.readdir(path.join(srv.root, 'pub'))).sort(), ['data.bin']);
});

test('ftplib: permission denials for the list+read user', async (t) => {
  const { srv } = await setup(t);
  const o = await ftplibScript(
    `
ftp = connect('reader', 'secret')
out['nlst'] = ftp.nlst()
out['retr'] = fetch(ftp, 'RETR report.txt').decode()
out['stor'] = attempt(lambda: ftp.storbinary('STOR x.txt', io.BytesIO(b'x')))
out['appe'] = attempt(lambda: ftp.storbinary('APPE report.txt', io.BytesIO(b'x')))
out['delete'] = attempt(lambda: ftp.delete('report.txt'))
out['rename'] = attempt(lambda: ftp.rename('report.txt', 'r.txt'))
out['mkd'] = attempt(lambda: ftp.mkd('d'))
f2 = ftplib.FTP()
f2.connect('127.0.0.1', o['port'], timeout=10)
out['badlogin'] = attempt(lambda: f2.login('reader', 'wrong'))
f2.close()
`,
    { port: srv.port },
  );
  assert.deepEqual(o.nlst, ['report.txt']);
  assert.equal(o.retr, 'quarterly numbers\n');
  for (const k of ['stor', 'appe', 'delete', 'rename', 'mkd']) assert.match(String(o[k]), /^550/, `${k}: ${JSON.stringify(o)}`);
  assert.match(String(o.badlogin), /^530/);
  assert.deepEqual(await fs.readdir(srv.readerHome), ['report.txt']);
});

test('ftplib: per-IP and anonymous limits answer 421', async (t) => {
  const { srv } = await setup(t, { server: { max_connections_per_ip: 3 }, anonymous: { max_connections: 1 } });
  const anon = await holdSessions(srv.port, 1, { name: 'anonymous', pass: 'a@b.c' });
  t.after(() => anon.close());
  // One anonymous session is open: another anonymous login gets 421, a user logs in.
  const first = await ftplibScript(
    `
f = ftplib.FTP()
f.connect('127.0.0.1', o['port'], timeout=10)
out['anon'] = attempt(lambda: f.login('anonymous', 'x@y.z'))
f.close()
g = connect('alice', 'secret')
out['user_nlst'] = g.nlst()
g.quit()
`,
    { port: srv.port },
  );
  assert.match(String(first.anon), /^421 .*anonymous/i, JSON.stringify(first));
  assert.match(String(first.login), /^230/);
  // Three connections from 127.0.0.1 are open: the next is refused at connect.
  const more = await holdSessions(srv.port, 2);
  t.after(() => more.close());
  const second = await ftplibScript(
    `
f = ftplib.FTP()
out['connect'] = attempt(lambda: f.connect('127.0.0.1', o['port'], timeout=10))
f.close()
`,
    { port: srv.port },
  );
  assert.match(String(second.connect), /^421 /, JSON.stringify(second));
  assert.equal((await anon.sessions[0]!.cmd('NOOP')).code, 200);
});
