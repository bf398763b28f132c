/**
 * Interop: the curl CLI against a live Wharf server. Asserts on what a
 * curl user sees: exit codes, downloaded bytes, listings, and the reply
 * codes in curl's -v trace.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { bytes, curl, curlCommands, curlReplies, describe, holdSessions, sha256, tempDir } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';

async function setup(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; tmp: string; url: string }> {
  const srv = await startServer(overrides);
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-curl-');
  t.after(cleanup);
  return { srv, tmp: dir, url: `ftp://127.0.0.1:${srv.port}` };
}

const ALICE = ['-u', 'alice:secret'];
const READER = ['-u', 'reader:secret'];

test('curl: anonymous listing of the root', async (t) => {
  const { url } = await setup(t);
  const r = await curl([`${url}/`]);
  assert.equal(r.code, 0, describe(r));
  const text = r.stdout.toString('utf8');
  assert.match(text, /^-.* hello\.txt$/m);
  assert.match(text, /^d.* pub$/m);
  assert.match(text, /^d.* incoming$/m);
  const nl = await curl(['-l', `${url}/pub/`]);
  assert.equal(nl.code, 0, describe(nl));
  assert.deepEqual(nl.stdout.toString('utf8').split(/\r?\n/).filter(Boolean), ['data.bin']);
});

test('curl: anonymous download, byte-exact (sha256)', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const out = path.join(tmp, 'data.bin');
  const r = await curl(['-o', out, `${url}/pub/data.bin`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(await fs.readFile(out)), sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
  const hello = await curl([`${url}/hello.txt`]);
  assert.equal(hello.code, 0, describe(hello));
  assert.equal(hello.stdout.toString('utf8'), 'Hello, world!\n');
  const missing = await curl(['-o', path.join(tmp, 'nope'), `${url}/nope.txt`]);
  assert.equal(missing.code, 78, describe(missing)); // CURLE_REMOTE_FILE_NOT_FOUND
});

test('curl: user upload then download round-trips the bytes', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const data = bytes(300_000, 7);
  const src = path.join(tmp, 'up.bin');
  await fs.writeFile(src, data);
  const up = await curl([...ALICE, '-T', src, `${url}/up.bin`]);
  assert.equal(up.code, 0, describe(up));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'up.bin'))), sha256(data));
  const back = path.join(tmp, 'back.bin');
  const down = await curl([...ALICE, '-o', back, `${url}/up.bin`]);
  assert.equal(down.code, 0, describe(down));
  assert.equal(sha256(await fs.readFile(back)), sha256(data));
  // Overwrite with new content.
  const data2 = bytes(1000, 8);
  await fs.writeFile(src, data2);
  const again = await curl([...ALICE, '-T', src, `${url}/up.bin`]);
  assert.equal(again.code, 0, describe(again));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'up.bin'))), sha256(data2));
  // A name with spaces and UTF-8.
  const fancy = await curl([...ALICE, '-T', src, `${url}/${encodeURIComponent('naïve file.bin')}`]);
  assert.equal(fancy.code, 0, describe(fancy));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'naïve file.bin'))), sha256(data2));
});

test('curl: resumed download (-C -) sends REST and completes the file', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const data = bytes(200_000, 3);
  await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), data);
  const out = path.join(tmp, 'big.bin');
  await fs.writeFile(out, data.subarray(0, 77_777));
  const r = await curl(['-v', ...ALICE, '-C', '-', '-o', out, `${url}/big.bin`]);
  assert.equal(r.code, 0, describe(r));
  assert.ok(curlCommands(r.stderr).includes('REST 77777'), describe(r));
  assert.ok(
    curlReplies(r.stderr).some((x) => x.code === 350),
    describe(r),
  );
  assert.equal(sha256(await fs.readFile(out)), sha256(data));
});

test('curl: resumed upload (-C -) completes the remote file', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const data = bytes(150_000, 4);
  const src = path.join(tmp, 'part.bin');
  await fs.writeFile(src, data);
  await fs.writeFile(path.join(srv.aliceHome, 'part.bin'), data.subarray(0, 50_001));
  const r = await curl(['-v', ...ALICE, '-C', '-', '-T', src, `${url}/part.bin`]);
  assert.equal(r.code, 0, describe(r));
  const cmds = curlCommands(r.stderr);
  assert.ok(cmds.includes('SIZE part.bin'), describe(r));
  assert.ok(
    cmds.some((c) => c.startsWith('APPE ') || c.startsWith('STOR ')),
    describe(r),
  );
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'part.bin'))), sha256(data));
});

test('curl: --append adds to the end of a remote file', async (t) => {
  const { srv, tmp, url } = await setup(t);
  await fs.writeFile(path.join(srv.aliceHome, 'log.txt'), 'line one\n');
  const src = path.join(tmp, 'more.txt');
  await fs.writeFile(src, 'line two\n');
  const r = await curl(['-v', ...ALICE, '--append', '-T', src, `${url}/log.txt`]);
  assert.equal(r.code, 0, describe(r));
  assert.ok(curlCommands(r.stderr).includes('APPE log.txt'), describe(r));
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'log.txt'), 'utf8'), 'line one\nline two\n');
  // Appending to a file that does not exist creates it.
  const r2 = await curl([...ALICE, '--append', '-T', src, `${url}/new.txt`]);
  assert.equal(r2.code, 0, describe(r2));
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'new.txt'), 'utf8'), 'line two\n');
});

test('curl: rename, delete, mkdir and rmdir through -Q', async (t) => {
  const { srv, url } = await setup(t);
  await fs.writeFile(path.join(srv.aliceHome, 'a.txt'), 'AAA');
  await fs.writeFile(path.join(srv.aliceHome, 'gone.txt'), 'x');
  const r = await curl(['-v', ...ALICE, '-Q', 'RNFR a.txt', '-Q', 'RNTO b.txt', '-Q', 'DELE gone.txt', '-Q', 'MKD newdir', '-Q', 'MKD tmpdir', '-Q', 'RMD tmpdir', `${url}/`]);
  assert.equal(r.code, 0, describe(r));
  const codes = curlReplies(r.stderr).map((x) => x.code);
  assert.ok(codes.includes(350) && codes.includes(250) && codes.includes(257), describe(r));
  const names = (await fs.readdir(srv.aliceHome)).sort();
  assert.deepEqual(names, ['b.txt', 'newdir']);
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'b.txt'), 'utf8'), 'AAA');
  // The listing curl printed was taken after the quote commands.
  assert.match(r.stdout.toString('utf8'), /^-.* b\.txt$/m);
  assert.match(r.stdout.toString('utf8'), /^d.* newdir$/m);
  // A failing quote command makes curl fail with CURLE_QUOTE_ERROR.
  const bad = await curl([...ALICE, '-Q', 'DELE no-such-file', `${url}/`]);
  assert.equal(bad.code, 21, describe(bad));
});

test('curl: --ftp-create-dirs creates the missing directories of an upload', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const src = path.join(tmp, 'f.txt');
  await fs.writeFile(src, 'deep\n');
  const without = await curl([...ALICE, '-T', src, `${url}/x/y/f.txt`]);
  assert.notEqual(without.code, 0, describe(without));
  const r = await curl([...ALICE, '--ftp-create-dirs', '-T', src, `${url}/x/y/z/f.txt`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(await fs.readFile(path.join(srv.aliceHome, 'x', 'y', 'z', 'f.txt'), 'utf8'), 'deep\n');
});

test('curl: active mode (-P) with EPRT and with PORT', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const want = sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin')));
  for (const extra of [[], ['--disable-eprt']]) {
    const out = path.join(tmp, `active${extra.length}.bin`);
    const r = await curl(['-v', '-P', '127.0.0.1', ...extra, '-o', out, `${url}/pub/data.bin`]);
    assert.equal(r.code, 0, describe(r));
    const cmds = curlCommands(r.stderr);
    if (extra.length)
      assert.ok(
        cmds.some((c) => c.startsWith('PORT ')),
        describe(r),
      );
    else
      assert.ok(
        cmds.some((c) => c.startsWith('EPRT ')),
        describe(r),
      );
    assert.ok(
      curlReplies(r.stderr).some((x) => x.code === 200),
      describe(r),
    );
    assert.equal(sha256(await fs.readFile(out)), want);
  }
  // Active upload and listing.
  const data = bytes(100_000, 9);
  const src = path.join(tmp, 'act.bin');
  await fs.writeFile(src, data);
  const up = await curl([...ALICE, '-P', '127.0.0.1', '-T', src, `${url}/act.bin`]);
  assert.equal(up.code, 0, describe(up));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'act.bin'))), sha256(data));
  const ls = await curl([...ALICE, '-P', '127.0.0.1', `${url}/`]);
  assert.equal(ls.code, 0, describe(ls));
  assert.match(ls.stdout.toString('utf8'), /^-.* 100000 .* act\.bin$/m);
});

test('curl: passive mode with EPSV (default) and PASV (--disable-epsv)', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const want = sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin')));
  const out1 = path.join(tmp, 'e.bin');
  const e = await curl(['-v', '-o', out1, `${url}/pub/data.bin`]);
  assert.equal(e.code, 0, describe(e));
  assert.ok(curlCommands(e.stderr).includes('EPSV'), describe(e));
  assert.ok(
    curlReplies(e.stderr).some((x) => x.code === 229),
    describe(e),
  );
  assert.equal(sha256(await fs.readFile(out1)), want);
  const out2 = path.join(tmp, 'p.bin');
  const p = await curl(['-v', '--disable-epsv', '-o', out2, `${url}/pub/data.bin`]);
  assert.equal(p.code, 0, describe(p));
  assert.ok(curlCommands(p.stderr).includes('PASV'), describe(p));
  assert.ok(!curlCommands(p.stderr).includes('EPSV'), describe(p));
  assert.ok(
    curlReplies(p.stderr).some((x) => x.code === 227 && /\(127,0,0,1,\d+,\d+\)/.test(x.text)),
    describe(p),
  );
  assert.equal(sha256(await fs.readFile(out2)), want);
  // A passive upload too.
  const src = path.join(tmp, 'pasv.bin');
  await fs.writeFile(src, bytes(70_000, 2));
  const up = await curl([...ALICE, '--disable-epsv', '-T', src, `${url}/pasv.bin`]);
  assert.equal(up.code, 0, describe(up));
  assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'pasv.bin'))), sha256(bytes(70_000, 2)));
});

test('curl: anonymous drop box takes new files only', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const src = path.join(tmp, 'drop.txt');
  await fs.writeFile(src, 'first\n');
  const up = await curl([`-T`, src, `${url}/incoming/drop.txt`]);
  assert.equal(up.code, 0, describe(up));
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');

  // Overwrite: refused, the first upload stays.
  await fs.writeFile(src, 'second\n');
  const over = await curl(['-v', '-T', src, `${url}/incoming/drop.txt`]);
  assert.equal(over.code, 25, describe(over)); // CURLE_UPLOAD_FAILED
  assert.ok(
    curlReplies(over.stderr).some((x) => x.code === 550 || x.code === 553),
    describe(over),
  );
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');

  // Append to it: refused too.
  const app = await curl(['-v', '--append', '-T', src, `${url}/incoming/drop.txt`]);
  assert.equal(app.code, 25, describe(app));
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');

  // Download: refused.
  const down = await curl(['-v', '-o', path.join(tmp, 'got.txt'), `${url}/incoming/drop.txt`]);
  assert.equal(down.code, 78, describe(down)); // CURLE_REMOTE_FILE_NOT_FOUND (550 to RETR)
  assert.ok(
    curlReplies(down.stderr).some((x) => x.code === 550),
    describe(down),
  );

  // Listing: refused, and nothing of the contents leaks.
  const ls = await curl(['-v', `${url}/incoming/`]);
  assert.notEqual(ls.code, 0, describe(ls));
  assert.ok(
    curlReplies(ls.stderr).some((x) => x.code === 550),
    describe(ls),
  );
  assert.doesNotMatch(ls.stdout.toString('utf8'), /drop\.txt/);
  const nl = await curl(['-l', `${url}/incoming/`]);
  assert.notEqual(nl.code, 0, describe(nl));
  assert.doesNotMatch(nl.stdout.toString('utf8'), /drop\.txt/);

  // Rename and delete: refused (CURLE_QUOTE_ERROR).
  const ren = await curl(['-v', '-Q', 'RNFR incoming/drop.txt', '-Q', 'RNTO incoming/other.txt', `${url}/hello.txt`]);
  assert.equal(ren.code, 21, describe(ren));
  const del = await curl(['-v', '-Q', 'DELE incoming/drop.txt', `${url}/hello.txt`]);
  assert.equal(del.code, 21, describe(del));
  assert.ok(
    curlReplies(del.stderr).some((x) => x.code === 550),
    describe(del),
  );
  assert.deepEqual(await fs.readdir(path.join(srv.root, 'incoming')), ['drop.txt']);

  // Outside the drop box anonymous is read-only.
  const ro = await curl(['-v', '-T', src, `${url}/pub/new.txt`]);
  assert.equal(ro.code, 25, describe(ro));
  assert.ok(
    curlReplies(ro.stderr).some((x) => x.code === 550 || x.code === 553),
    describe(ro),
  );
  await assert.rejects(fs.stat(path.join(srv.root, 'pub', 'new.txt')));
});

test('curl: permission denials for the list+read user', async (t) => {
  const { srv, tmp, url } = await setup(t);
  const ls = await curl([...READER, `${url}/`]);
  assert.equal(ls.code, 0, describe(ls));
  assert.match(ls.stdout.toString('utf8'), /report\.txt$/m);
  const get = await curl([...READER, `${url}/report.txt`]);
  assert.equal(get.code, 0, describe(get));
  assert.equal(get.stdout.toString('utf8'), 'quarterly numbers\n');

  const src = path.join(tmp, 'x.txt');
  await fs.writeFile(src, 'nope\n');
  const up = await curl(['-v', ...READER, '-T', src, `${url}/x.txt`]);
  assert.equal(up.code, 25, describe(up));
  assert.ok(
    curlReplies(up.stderr).some((x) => x.code === 550),
    describe(up),
  );
  await assert.rejects(fs.stat(path.join(srv.readerHome, 'x.txt')));

  const app = await curl(['-v', ...READER, '--append', '-T', src, `${url}/report.txt`]);
  assert.equal(app.code, 25, describe(app));
  assert.ok(
    curlReplies(app.stderr).some((x) => x.code === 550),
    describe(app),
  );

  for (const q of [['DELE report.txt'], ['MKD d'], ['RNFR report.txt', 'RNTO r.txt']]) {
    const r = await curl(['-v', ...READER, ...q.flatMap((c) => ['-Q', c]), `${url}/report.txt`]);
    assert.equal(r.code, 21, `${q.join(', ')}: ${describe(r)}`);
    assert.ok(
      curlReplies(r.stderr).some((x) => x.code === 550),
      `${q.join(', ')}: ${describe(r)}`,
    );
  }
  assert.deepEqual(await fs.readdir(srv.readerHome), ['report.txt']);
  assert.equal(await fs.readFile(path.join(srv.readerHome, 'report.txt'), 'utf8'), 'quarterly numbers\n');

  const badPass = await curl(['-u', 'reader:wrong', `${url}/`]);
  assert.equal(badPass.code, 67, describe(badPass)); // CURLE_LOGIN_DENIED
});

test('curl: per-IP connection limit answers 421 and spares open sessions', async (t) => {
  const { url, srv } = await setup(t, { server: { max_connections_per_ip: 2 } });
  const held = await holdSessions(srv.port, 2, { name: 'alice', pass: 'secret' });
  t.after(() => held.close());
  const r = await curl(['-v', ...ALICE, `${url}/`]);
  assert.notEqual(r.code, 0, describe(r));
  const replies = curlReplies(r.stderr);
  assert.ok(
    replies.some((x) => x.code === 421 && /connection/i.test(x.text)),
    describe(r),
  );
  // The open sessions still work.
  for (const s of held.sessions) assert.equal((await s.cmd('NOOP')).code, 200);
  // Once one closes, curl gets in: the server frees the slot before it reports the disconnect.
  const first = held.sessions[0]!;
  const gone = waitForEvent(srv.server, 'disconnect');
  first.cmd('QUIT').catch(() => undefined);
  await first.waitClosed();
  await gone;
  const ok = await curl([...ALICE, `${url}/`]);
  assert.equal(ok.code, 0, describe(ok));
});

test('curl: anonymous session limit answers 421 while users still log in', async (t) => {
  const { url, srv } = await setup(t, { anonymous: { max_connections: 1 } });
  const held = await holdSessions(srv.port, 1, { name: 'anonymous', pass: 'a@b.c' });
  t.after(() => held.close());
  const r = await curl(['-v', `${url}/hello.txt`]);
  assert.notEqual(r.code, 0, describe(r));
  assert.ok(
    curlReplies(r.stderr).some((x) => x.code === 421 && /anonymous/i.test(x.text)),
    describe(r),
  );
  const user = await curl([...ALICE, `${url}/`]);
  assert.equal(user.code, 0, describe(user));
  assert.equal((await held.sessions[0]!.cmd('NOOP')).code, 200);
});
