/**
 * Real FTP clients (curl, lftp, basic-ftp) against Wharf serving `s3://`
 * roots on an S3-compatible server (s3rver on loopback): uploads big
 * enough to be multipart (5 MiB parts) and downloads byte-exact by
 * sha256, REST downloads, APPE and REST+STOR (server-side copy of a long
 * prefix, read-back of a short one), directories, renames, MFMT seen by
 * MDTM and MLSD, and nothing left behind: no unfinished multipart upload,
 * no registry entry, no key outside the roots.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { startServer, secretHash, type TestServer } from '../helpers/server.js';
import { bytes, curl, curlCommands, describe, lftp, sha256, tempDir } from '../helpers/clients.js';
import { MiB, s3Overrides, startS3, type S3Server } from '../helpers/s3.js';

let s3: S3Server;
let n = 0;

before(async () => {
  s3 = await startS3('wharf-ftp');
});

after(async () => {
  await s3.stop();
});

/** A Wharf on a fresh prefix; checks at the end that nothing was left behind in S3. */
async function setup(t: TestContext): Promise<{ srv: TestServer; tmp: string; prefix: string }> {
  const prefix = `f${++n}`;
  const srv = await startServer(s3Overrides(s3, prefix, await secretHash()));
  t.after(async () => {
    await srv.close();
    assert.deepEqual(await s3.uploads(`${prefix}/`), [], 'unfinished multipart uploads');
    assert.deepEqual(
      (await s3.keys(`${prefix}/`)).filter((k) => k.includes('.wharf-uploads/')),
      [],
      'upload registry entries',
    );
    assert.deepEqual(
      (await s3.keys()).filter((k) => !/^f\d+\/(pub|alice)\//.test(k)),
      [],
      'keys outside the roots',
    );
  });
  const { dir, cleanup } = await tempDir('wharf-s3-ftp-');
  t.after(cleanup);
  return { srv, tmp: dir, prefix };
}

async function connect(t: TestContext, port: number): Promise<Client> {
  const client = new Client(20_000);
  t.after(() => client.close());
  await client.access({ host: '127.0.0.1', port, user: 'alice', password: 'secret' });
  return client;
}

async function fetchAll(client: Client, remote: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await client.downloadTo(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
    remote,
  );
  return Buffer.concat(chunks);
}

async function ftpCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FTPError) return e.code;
    throw e;
  }
  assert.fail('expected the server to refuse');
}

test('curl: a 20 MiB upload in 5 MiB parts and its download are byte-exact; REST downloads from an offset', async (t) => {
  const { srv, tmp, prefix } = await setup(t);
  const payload = bytes(20 * MiB + 12345, 3);
  const local = path.join(tmp, 'big.bin');
  await fs.writeFile(local, payload);
  const url = `ftp://127.0.0.1:${srv.port}`;
  let r = await curl(['-u', 'alice:secret', '--ftp-create-dirs', '-T', local, `${url}/dir/big.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(await s3.keys(`${prefix}/alice/`), [`${prefix}/alice/dir/`, `${prefix}/alice/dir/big.bin`]);
  r = await curl(['-u', 'alice:secret', `${url}/dir/big.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(r.stdout), sha256(payload));
  // REST + RETR: curl's ranged download.
  const from = 13 * MiB + 7;
  r = await curl(['-v', '-u', 'alice:secret', '-r', `${from}-`, `${url}/dir/big.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  assert.ok(curlCommands(r.stderr).includes(`REST ${from}`), 'curl sent REST');
  assert.equal(sha256(r.stdout), sha256(payload.subarray(from)));
  r = await curl(['-u', 'alice:secret', '-I', `${url}/dir/big.bin`]);
  assert.match(r.stdout.toString(), new RegExp(`Content-Length: ${payload.length}`));
});

test('lftp: mkdir, put, mv of a directory, ls, get byte-exact, rm, rmdir', async (t) => {
  const { srv, tmp, prefix } = await setup(t);
  const payload = bytes(7 * MiB + 3, 5);
  await fs.writeFile(path.join(tmp, 'up.bin'), payload);
  const script = [
    'mkdir d',
    'mkdir d/inner',
    `put ${path.join(tmp, 'up.bin')} -o d/up.bin`,
    'mv d moved',
    'cls -1 moved',
    `get moved/up.bin -o ${path.join(tmp, 'down.bin')}`,
  ].join('; ');
  let r = await lftp(srv.port, 'alice,secret', script, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(r.stdout.toString().trim().split('\n').sort(), ['moved/inner/', 'moved/up.bin']);
  assert.equal(sha256(await fs.readFile(path.join(tmp, 'down.bin'))), sha256(payload));
  // lftp set the file's time with MFMT after the upload: the directory's index of set times is the one extra key.
  assert.deepEqual(await s3.keys(`${prefix}/alice/`), [
    `${prefix}/alice/moved/`,
    `${prefix}/alice/moved/.wharf-mtimes`,
    `${prefix}/alice/moved/inner/`,
    `${prefix}/alice/moved/up.bin`,
  ]);
  const local = await fs.stat(path.join(tmp, 'up.bin'));
  r = await lftp(srv.port, 'alice,secret', 'cls -l --time-style=+%s moved/up.bin');
  assert.match(r.stdout.toString(), new RegExp(` ${Math.floor(local.mtimeMs / 1000)} `), `the listing shows the time lftp set: ${r.stdout.toString()}`);
  r = await lftp(srv.port, 'alice,secret', 'rmdir moved/inner; rm moved/up.bin; rmdir moved; cls -1');
  assert.equal(r.code, 0, describe(r));
  assert.equal(r.stdout.toString().trim(), '');
  assert.deepEqual(await s3.keys(`${prefix}/alice/`), []);
});

test('APPE and REST+STOR: a long kept prefix is copied inside S3, a short one read back', async (t) => {
  const { srv, tmp } = await setup(t);
  const url = `ftp://127.0.0.1:${srv.port}`;
  const base = bytes(12 * MiB + 5, 7);
  const tail = bytes(3 * MiB + 1, 11);
  await fs.writeFile(path.join(tmp, 'base.bin'), base);
  await fs.writeFile(path.join(tmp, 'tail.bin'), tail);
  let r = await curl(['-u', 'alice:secret', '-T', path.join(tmp, 'base.bin'), `${url}/long.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-v', '-u', 'alice:secret', '-a', '-T', path.join(tmp, 'tail.bin'), `${url}/long.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  assert.ok(curlCommands(r.stderr).includes('APPE long.bin'));
  r = await curl(['-u', 'alice:secret', `${url}/long.bin`], { timeoutMs: 60_000 });
  assert.equal(sha256(r.stdout), sha256(Buffer.concat([base, tail])), 'APPE after a 12 MiB object');

  r = await curl(['-u', 'alice:secret', '-T', '-', `${url}/short.txt`], { input: 'hello' });
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-u', 'alice:secret', '-a', '-T', '-', `${url}/short.txt`], { input: ', world' });
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-u', 'alice:secret', `${url}/short.txt`]);
  assert.equal(r.stdout.toString(), 'hello, world');

  // REST + STOR: lftp resumes an upload whose first 6 MiB are there (put -c).
  const whole = bytes(14 * MiB + 9, 13);
  await fs.writeFile(path.join(tmp, 'whole.bin'), whole);
  await fs.writeFile(path.join(tmp, 'part.bin'), whole.subarray(0, 6 * MiB));
  r = await curl(['-u', 'alice:secret', '-T', path.join(tmp, 'part.bin'), `${url}/resumed.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  const log = path.join(tmp, 'debug.log');
  r = await lftp(srv.port, 'alice,secret', `debug -o ${log} 5; put -c ${path.join(tmp, 'whole.bin')} -o resumed.bin`, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describe(r));
  assert.match(await fs.readFile(log, 'utf8'), /---> REST 6291456/, 'lftp resumed with REST');
  r = await curl(['-u', 'alice:secret', `${url}/resumed.bin`], { timeoutMs: 60_000 });
  assert.equal(sha256(r.stdout), sha256(whole), 'REST+STOR result');
});

test('basic-ftp: MFMT sets the time MDTM and MLSD show; RMD of a non-empty directory and DELE of a missing file are refused', async (t) => {
  const { srv } = await setup(t);
  const client = await connect(t, srv.port);
  await client.ensureDir('/docs');
  await client.uploadFrom(Readable.from([Buffer.from('notes')]), 'notes.txt');
  const feat = await client.send('FEAT');
  assert.match(feat.message, /MFMT/);
  assert.match(feat.message, /MLST/);
  assert.equal((await client.send('MFMT 20010203040506 notes.txt')).code, 213);
  assert.equal((await client.lastMod('notes.txt')).toISOString(), '2001-02-03T04:05:06.000Z', 'MDTM');
  const listed = (await client.list()).find((f) => f.name === 'notes.txt');
  assert.equal(listed?.modifiedAt?.toISOString(), '2001-02-03T04:05:06.000Z', 'MLSD');
  assert.equal(listed?.size, 5);
  assert.equal((await fetchAll(client, 'notes.txt')).toString(), 'notes');
  // Renamed, the file keeps its time (metadata travels with the copy).
  await client.rename('notes.txt', '/notes-2001.txt');
  await client.cd('/');
  assert.equal((await client.lastMod('notes-2001.txt')).toISOString(), '2001-02-03T04:05:06.000Z');
  assert.equal((await client.list()).find((f) => f.name === 'notes-2001.txt')?.modifiedAt?.toISOString(), '2001-02-03T04:05:06.000Z');
  assert.equal(await ftpCode(client.send('RMD /')), 550);
  await client.uploadFrom(Readable.from([Buffer.from('x')]), '/docs/x');
  assert.equal(await ftpCode(client.send('RMD /docs')), 550);
  assert.equal(await ftpCode(client.send('DELE /missing')), 550);
  assert.equal(await ftpCode(client.send('CWD /notes-2001.txt')), 550);
  await client.remove('/docs/x');
  await client.removeDir('/docs');
  await client.remove('/notes-2001.txt');
  assert.deepEqual(await client.list('/'), []);
});

test('anonymous: the s3 root is read-only; the drop box takes new files only', async (t) => {
  const { srv, prefix } = await setup(t);
  const url = `ftp://127.0.0.1:${srv.port}`;
  let r = await curl(['-T', '-', `${url}/incoming/note.txt`], { input: 'dropped' });
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-T', '-', `${url}/incoming/note.txt`], { input: 'again' });
  assert.notEqual(r.code, 0, 'overwriting in the drop box must fail');
  r = await curl(['-T', '-', `${url}/elsewhere.txt`], { input: 'x' });
  assert.notEqual(r.code, 0, 'uploading outside the drop box must fail');
  r = await curl(['-l', `${url}/`]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(r.stdout.toString().split(/\r?\n/).filter(Boolean), ['incoming']);
  assert.deepEqual(await s3.keys(`${prefix}/pub/`), [`${prefix}/pub/incoming/`, `${prefix}/pub/incoming/note.txt`]);
});
