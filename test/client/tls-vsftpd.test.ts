/**
 * TLS (explicit and implicit) with a self-signed certificate made by the
 * openssl CLI, against pyftpdlib and vsftpd (which demands TLS session reuse
 * on data connections); plain vsftpd for LIST parsing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, toBuffer, FtpTlsError } from '../../src/index.js';
import { bytes, makeCert, makeTree, sha256, startPyftpdlib, startVsftpd, tempDir, type CertFiles, type Peer } from '../helpers/peers.js';

const DATA = bytes(1_500_000, 3);

describe('TLS and vsftpd', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let root: string;
  let cert: CertFiles;
  const peers: Peer[] = [];

  before(async () => {
    work = await tempDir();
    root = path.join(work.dir, 'root');
    await makeTree(root, { 'pub/data.bin': DATA, 'pub/a.txt': 'alpha', 'pub/sub/b.txt': 'beta' });
    await fs.promises.chmod(root, 0o755);
    cert = await makeCert(work.dir);
  });
  after(async () => {
    for (const p of peers) await p.close();
    await work?.cleanup();
  });

  async function peer(start: () => Promise<Peer>): Promise<Peer> {
    const p = await start();
    peers.push(p);
    return p;
  }

  async function roundTrip(url: string, opts: Parameters<typeof connect>[1]): Promise<void> {
    const client = await connect(url, { timeout: 10_000, ...opts });
    try {
      assert.equal(client.secure, true);
      const names = (await client.list('pub')).map((e) => e.name).sort();
      assert.deepEqual(names, ['a.txt', 'data.bin', 'sub']);
      const sink = toBuffer();
      await client.download('pub/data.bin', sink);
      assert.equal(sha256(sink.data()), sha256(DATA));
      client.passive = false;
      const small = toBuffer();
      await client.download('pub/a.txt', small);
      assert.equal(small.data().toString(), 'alpha');
    } finally {
      await client.close();
    }
  }

  test('explicit TLS against pyftpdlib, certificate verified with the CA option', async () => {
    const p = await peer(() => startPyftpdlib({ root, tls: cert }));
    await roundTrip(p.url, { secure: true, tlsOptions: { ca: fs.readFileSync(cert.cert) } });
  });

  test('an unverifiable certificate is refused unless insecure', async () => {
    const p = await peer(() => startPyftpdlib({ root, tls: cert }));
    await assert.rejects(connect(p.url, { secure: true, timeout: 5000 }), (e: unknown) => e instanceof FtpTlsError && /certificate/i.test(e.message));
    await roundTrip(p.url, { secure: true, insecure: true });
  });

  test('explicit TLS demanded from a server without TLS fails, never falls back', async () => {
    const p = await peer(() => startPyftpdlib({ root }));
    await assert.rejects(connect(p.url, { secure: true, timeout: 5000 }), FtpTlsError);
  });

  test('vsftpd with forced TLS and required session reuse (explicit)', async () => {
    const p = await peer(() => startVsftpd({ root, workDir: work.dir, tls: cert, forceTls: true }));
    await roundTrip(p.url, { secure: true, insecure: true });
  });

  test('vsftpd implicit TLS (ftps://)', async () => {
    const p = await peer(() => startVsftpd({ root, workDir: work.dir, tls: cert, implicit: true }));
    assert.match(p.url, /^ftps:/);
    await roundTrip(p.url, { insecure: true });
  });

  test('plain vsftpd: LIST parsing, size, passive and active', async () => {
    const p = await peer(() => startVsftpd({ root, workDir: work.dir }));
    const client = await connect(p.url, { timeout: 10_000 });
    try {
      assert.equal(client.features.has('MLST'), false);
      const list = await client.list('pub');
      const data = list.find((e) => e.name === 'data.bin');
      assert.equal(data?.type, 'file');
      assert.equal(data?.size, DATA.length);
      assert.equal(list.find((e) => e.name === 'sub')?.type, 'directory');
      assert.equal(await client.size('pub/data.bin'), DATA.length);
      for (const passive of [true, false]) {
        client.passive = passive;
        const sink = toBuffer();
        await client.download('pub/data.bin', sink);
        assert.equal(sha256(sink.data()), sha256(DATA));
      }
    } finally {
      await client.close();
    }
  });
});
