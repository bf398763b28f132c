/**
 * FTPS interop: lftp with `ftp:ssl-force` and `ftp:ssl-protect-data`
 * (explicit AUTH TLS) in passive and active mode, and `ftps://` (implicit);
 * sha256-checked 5 MiB uploads and downloads. lftp resumes the control
 * connection's TLS session on data connections (in active mode too, where
 * Wharf connects out but is still the TLS server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, sha256 } from '../helpers/clients.js';
import { fileSha256, lftpTls, startFtps } from '../helpers/tls.js';

const SIZE = 5 * 1024 * 1024;

/** Checks lftp's -d trace: AUTH TLS (explicit only), PROT P, the data mode it really used. */
function assertTrace(trace: string, passive: boolean, explicit: boolean): void {
  const sent = trace.split(/\r?\n/).flatMap((l) => (l.startsWith('---> ') ? [l.slice(5)] : []));
  if (explicit) assert.ok(sent.includes('AUTH TLS'), trace);
  else assert.ok(!sent.some((c) => c.startsWith('AUTH')), trace);
  assert.ok(sent.some((c) => c.startsWith('PROT P')) || !explicit, trace);
  assert.ok(!sent.some((c) => c.startsWith('PROT C')), trace);
  const dataCmds = sent.filter((c) => /^(PASV|EPSV|PORT|EPRT)\b/.test(c));
  assert.ok(dataCmds.length >= 2, trace);
  for (const c of dataCmds) assert.match(c, passive ? /^(PASV|EPSV)/ : /^(PORT|EPRT)/, trace);
  assert.ok(!/<--- 5\d\d/.test(trace), trace);
}

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';
  test(`lftp explicit FTPS (ssl-force, protect-data), ${mode}: 5 MiB put and get, sha256`, async (t) => {
    const f = await startFtps(t, { require: 'users' });
    const data = randomBytes(SIZE);
    const src = path.join(f.tmp, 'src.bin');
    await fs.writeFile(src, data);
    const back = path.join(f.tmp, 'back.bin');
    const r = await lftpTls(f.port, 'alice,secret', `put ${src} -o up.bin; get up.bin -o ${back}; cls -1`, { passive, cwd: f.tmp });
    assert.equal(r.code, 0, describe(r));
    assertTrace(r.stderr, passive, true);
    assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'up.bin')), sha256(data));
    assert.equal(await fileSha256(back), sha256(data));
    assert.deepEqual(r.stdout.toString('utf8').split(/\r?\n/).filter(Boolean), ['up.bin']);
  });
}

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';
  test(`lftp implicit FTPS (ftps://), ${mode}: 5 MiB put and get, sha256`, async (t) => {
    const f = await startFtps(t, { require: 'all' });
    const data = randomBytes(SIZE);
    const src = path.join(f.tmp, 'src.bin');
    await fs.writeFile(src, data);
    const back = path.join(f.tmp, 'back.bin');
    const r = await lftpTls(f.implicitPort, 'alice,secret', `put ${src} -o imp.bin; get imp.bin -o ${back}`, { passive, implicit: true, cwd: f.tmp });
    assert.equal(r.code, 0, describe(r));
    assertTrace(r.stderr, passive, false);
    assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'imp.bin')), sha256(data));
    assert.equal(await fileSha256(back), sha256(data));
  });
}
