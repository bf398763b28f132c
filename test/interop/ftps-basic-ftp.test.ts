/**
 * FTPS interop: the basic-ftp npm client, `secure: true` (explicit AUTH
 * TLS) and `secure: "implicit"`, with a self-signed certificate
 * (`rejectUnauthorized: false`). basic-ftp is passive-only and resumes the
 * control connection's TLS session on data connections. sha256-checked
 * 5 MiB uploads and downloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'basic-ftp';
import { sha256 } from '../helpers/clients.js';
import { fileSha256, startFtps } from '../helpers/tls.js';

const SIZE = 5 * 1024 * 1024;

for (const secure of [true, 'implicit'] as const) {
  test(`basic-ftp secure: ${JSON.stringify(secure)}: 5 MiB upload and download, sha256, listing`, async (t) => {
    const f = await startFtps(t, { require: 'all' });
    const client = new Client(20_000);
    t.after(() => client.close());
    await client.access({
      host: '127.0.0.1',
      port: secure === 'implicit' ? f.implicitPort : f.port,
      user: 'alice',
      password: 'secret',
      secure,
      secureOptions: { rejectUnauthorized: false },
    });
    assert.equal(client.ftp.hasTLS, true);
    const data = randomBytes(SIZE);
    const src = path.join(f.tmp, 'src.bin');
    await fs.writeFile(src, data);
    const up = await client.uploadFrom(src, 'up.bin');
    assert.equal(up.code, 226);
    assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'up.bin')), sha256(data));
    const back = path.join(f.tmp, 'back.bin');
    const down = await client.downloadTo(back, 'up.bin');
    assert.equal(down.code, 226);
    assert.equal(await fileSha256(back), sha256(data));
    const names = (await client.list()).map((e) => e.name);
    assert.deepEqual(names, ['up.bin']);
  });
}
