/**
 * FTPS interop: the curl CLI against Wharf, explicit (`--ssl-reqd`, AUTH TLS
 * on the control port) and implicit (`ftps://`), with sha256-checked
 * uploads and downloads of 5 MiB in passive mode. curl resumes the control
 * connection's TLS session on data connections, so the default
 * require_session_reuse must let it through.
 *
 * Active mode is deliberately not tested with curl: curl 7.88.1 (Debian
 * bookworm's) has a regression (curl issue #10666) that hangs FTPS in
 * active mode (-P) against any server. Active + TLS is covered by lftp,
 * ftplib and the Node TLS client in ftps-policy.test.ts instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { curl, curlReplies, curlCommands, describe, sha256 } from '../helpers/clients.js';
import { fileSha256, startFtps } from '../helpers/tls.js';

const SIZE = 5 * 1024 * 1024;

test('curl --ssl-reqd -k (explicit FTPS), passive: 5 MiB upload and download, sha256', async (t) => {
  const f = await startFtps(t);
  const data = randomBytes(SIZE);
  const src = path.join(f.tmp, 'up.bin');
  await fs.writeFile(src, data);
  const url = `ftp://127.0.0.1:${f.port}`;

  const up = await curl(['-v', '--ssl-reqd', '-k', '-u', 'alice:secret', '-T', src, `${url}/up.bin`]);
  assert.equal(up.code, 0, describe(up));
  const cmds = curlCommands(up.stderr);
  assert.ok(cmds.includes('AUTH TLS') || cmds.includes('AUTH SSL'), cmds.join('\n'));
  assert.ok(cmds.includes('PROT P'), cmds.join('\n'));
  assert.ok(
    curlReplies(up.stderr).some((r) => r.code === 234),
    up.stderr,
  );
  assert.ok(
    cmds.some((c) => /^(EPSV|PASV)$/.test(c)),
    cmds.join('\n'),
  );
  assert.ok(!cmds.some((c) => /^(EPRT|PORT) /.test(c)), cmds.join('\n'));
  assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'up.bin')), sha256(data));

  const out = path.join(f.tmp, 'down.bin');
  const down = await curl(['--ssl-reqd', '-k', '-u', 'alice:secret', '-o', out, `${url}/up.bin`]);
  assert.equal(down.code, 0, describe(down));
  assert.equal(await fileSha256(out), sha256(data));

  // Anonymous over explicit TLS too (the archive's own file).
  const hello = await curl(['--ssl-reqd', '-k', `${url}/hello.txt`]);
  assert.equal(hello.code, 0, describe(hello));
  assert.equal(hello.stdout.toString('utf8'), 'Hello, world!\n');
});

test('curl ftps:// -k (implicit FTPS), passive: 5 MiB upload and download, sha256, and a listing', async (t) => {
  const f = await startFtps(t);
  const data = randomBytes(SIZE);
  const src = path.join(f.tmp, 'up.bin');
  await fs.writeFile(src, data);
  const url = `ftps://127.0.0.1:${f.implicitPort}`;

  const up = await curl(['-k', '-u', 'alice:secret', '-T', src, `${url}/implicit.bin`]);
  assert.equal(up.code, 0, describe(up));
  assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'implicit.bin')), sha256(data));

  const out = path.join(f.tmp, 'down.bin');
  const down = await curl(['-k', '-u', 'alice:secret', '-o', out, `${url}/implicit.bin`]);
  assert.equal(down.code, 0, describe(down));
  assert.equal(await fileSha256(out), sha256(data));

  const list = await curl(['-k', '-l', '-u', 'alice:secret', `${url}/`]);
  assert.equal(list.code, 0, describe(list));
  assert.deepEqual(list.stdout.toString('utf8').split(/\r?\n/).filter(Boolean), ['implicit.bin']);
});

test('curl without --ssl-reqd under require="users": alice is refused with 530, the password is never sent', async (t) => {
  const f = await startFtps(t, { require: 'users' });
  const r = await curl(['-v', '-u', 'alice:secret', `ftp://127.0.0.1:${f.port}/`]);
  assert.notEqual(r.code, 0, describe(r));
  const replies = curlReplies(r.stderr);
  const refusal = replies.find((x) => x.code === 530);
  assert.ok(refusal, r.stderr);
  assert.match(refusal.text, /TLS/);
  assert.ok(!curlCommands(r.stderr).some((c) => c.startsWith('PASS')), r.stderr);
});
