/**
 * Interop: the classic inetutils `ftp` client (Debian package
 * inetutils-ftp), driven by a stdin script with `-n -v -d` (`-p` for passive).
 * The client exits 0 whatever happens, so the tests assert on the reply
 * codes it prints and on the files it leaves.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { bytes, describe, inetutilsFtp, run, sha256, tempDir, type RunResult } from '../helpers/clients.js';

async function setup(t: TestContext): Promise<{ srv: TestServer; tmp: string }> {
  const srv = await startServer();
  t.after(() => srv.close());
  const { dir, cleanup } = await tempDir('wharf-inetftp-');
  t.after(cleanup);
  return { srv, tmp: dir };
}

/** Runs the client with a command script; `cwd` is where mget writes. */
async function ftp(port: number, login: string, lines: string[], opts: { passive: boolean; cwd: string }): Promise<{ r: RunResult; out: string }> {
  const script = [`open 127.0.0.1 ${port}`, `user ${login}`, ...lines, 'bye', ''].join('\n');
  const r = await run(inetutilsFtp(), ['-n', '-v', '-d', ...(opts.passive ? ['-p'] : [])], { input: script, cwd: opts.cwd });
  assert.equal(r.code, 0, describe(r));
  assert.ok(!r.timedOut, describe(r));
  return { r, out: r.stdout.toString('utf8') + r.stderr };
}

/** The reply codes the client printed, in order. */
function codes(out: string): number[] {
  return [...out.matchAll(/^(\d{3}) /gm)].map((m) => Number(m[1]));
}

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';

  test(`inetutils ftp (${mode}): anonymous ls, dir, get and mget`, async (t) => {
    const { srv, tmp } = await setup(t);
    const { r, out } = await ftp(srv.port, 'anonymous x@y', ['binary', 'ls', 'dir pub', `get pub/data.bin ${path.join(tmp, 'data.bin')}`, 'prompt', 'mget *.txt'], {
      passive,
      cwd: tmp,
    });
    const c = codes(out);
    assert.ok(c.includes(220) && c.includes(230) && c.includes(221), describe(r));
    // Every data transfer ends in 226, and the data connections used the requested mode.
    assert.equal(c.filter((x) => x === 226).length, 4, describe(r));
    // `-d` shows the commands sent: all five data connections (ls, dir, get,
    // mget's NLST *.txt and its get) used the requested mode.
    assert.match(out, /^---> NLST \*\.txt$/m);
    assert.equal((out.match(passive ? /^---> PASV$/gm : /^---> PORT /gm) ?? []).length, 5, describe(r));
    assert.doesNotMatch(out, passive ? /^---> (PORT|EPRT)/m : /^---> (PASV|EPSV)/m);
    assert.ok(!c.some((x) => x >= 400), describe(r));
    assert.match(out, /^-.* hello\.txt$/m);
    assert.match(out, /^d.* incoming$/m);
    assert.match(out, /^-.* 65536 .* data\.bin$/m);
    assert.equal(sha256(await fs.readFile(path.join(tmp, 'data.bin'))), sha256(await fs.readFile(path.join(srv.root, 'pub', 'data.bin'))));
    assert.equal(await fs.readFile(path.join(tmp, 'hello.txt'), 'utf8'), 'Hello, world!\n');
  });

  test(`inetutils ftp (${mode}): user put, append, reget, rename, delete, mkdir, rmdir`, async (t) => {
    const { srv, tmp } = await setup(t);
    const data = bytes(140_000, 51);
    await fs.writeFile(path.join(tmp, 'up.bin'), data);
    await fs.writeFile(path.join(tmp, 'tail.txt'), 'two\n');
    await fs.writeFile(path.join(srv.aliceHome, 'log.txt'), 'one\n');
    await fs.writeFile(path.join(srv.aliceHome, 'gone.txt'), 'x');
    const big = bytes(120_000, 52);
    await fs.writeFile(path.join(srv.aliceHome, 'big.bin'), big);
    await fs.writeFile(path.join(tmp, 'big.bin'), big.subarray(0, 30_000));
    const { r, out } = await ftp(
      srv.port,
      'alice secret',
      [
        'binary',
        `put ${path.join(tmp, 'up.bin')} up.bin`,
        `append ${path.join(tmp, 'tail.txt')} log.txt`,
        `reget big.bin ${path.join(tmp, 'big.bin')}`,
        'mkdir dir',
        'rename up.bin dir/up.bin',
        'delete gone.txt',
        'mkdir tmp',
        'rmdir tmp',
        'ls',
      ],
      { passive, cwd: tmp },
    );
    const c = codes(out);
    assert.ok(!c.some((x) => x >= 400), describe(r));
    assert.ok(c.includes(350) && c.includes(257) && c.includes(250), describe(r));
    assert.equal(sha256(await fs.readFile(path.join(srv.aliceHome, 'dir', 'up.bin'))), sha256(data));
    assert.equal(await fs.readFile(path.join(srv.aliceHome, 'log.txt'), 'utf8'), 'one\ntwo\n');
    assert.equal(sha256(await fs.readFile(path.join(tmp, 'big.bin'))), sha256(big));
    assert.deepEqual((await fs.readdir(srv.aliceHome)).sort(), ['big.bin', 'dir', 'log.txt']);
  });
}

test('inetutils ftp: anonymous drop box and read-only archive', async (t) => {
  const { srv, tmp } = await setup(t);
  await fs.writeFile(path.join(tmp, 'drop.txt'), 'first\n');
  await fs.writeFile(path.join(tmp, 'second.txt'), 'second\n');
  const { r, out } = await ftp(
    srv.port,
    'anonymous x@y',
    [
      'binary',
      `put ${path.join(tmp, 'drop.txt')} incoming/drop.txt`,
      `put ${path.join(tmp, 'second.txt')} incoming/drop.txt`,
      'ls incoming',
      `get incoming/drop.txt ${path.join(tmp, 'got.txt')}`,
      'delete incoming/drop.txt',
      `put ${path.join(tmp, 'second.txt')} pub/new.txt`,
    ],
    { passive: true, cwd: tmp },
  );
  const c = codes(out).filter((x) => ![220, 221, 227, 230, 331, 200, 215].includes(x));
  // put -> 150, 226; put again -> 55x; ls -> 550; get -> 550; delete -> 550; put in pub -> 55x
  assert.deepEqual(c.slice(0, 2), [150, 226], describe(r));
  const refusals = c.slice(2);
  assert.equal(refusals.length, 5, describe(r));
  for (const x of refusals) assert.ok(x === 550 || x === 553, describe(r));
  assert.deepEqual(await fs.readdir(path.join(srv.root, 'incoming')), ['drop.txt']);
  assert.equal(await fs.readFile(path.join(srv.root, 'incoming', 'drop.txt'), 'utf8'), 'first\n');
  await assert.rejects(fs.stat(path.join(srv.root, 'pub', 'new.txt')));
});

test('inetutils ftp: permission denials for the list+read user', async (t) => {
  const { srv, tmp } = await setup(t);
  await fs.writeFile(path.join(tmp, 'x.txt'), 'x');
  const { r, out } = await ftp(
    srv.port,
    'reader secret',
    [`get report.txt ${path.join(tmp, 'report.txt')}`, `put ${path.join(tmp, 'x.txt')} x.txt`, 'delete report.txt', 'mkdir d'],
    { passive: true, cwd: tmp },
  );
  assert.equal(await fs.readFile(path.join(tmp, 'report.txt'), 'utf8'), 'quarterly numbers\n');
  assert.equal(codes(out).filter((x) => x === 550).length, 3, describe(r));
  assert.deepEqual(await fs.readdir(srv.readerHome), ['report.txt']);
});
