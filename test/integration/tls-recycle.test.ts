/**
 * An ended FTPS session's TLS context is given to the next session with new
 * ticket keys (src/server/tls/material.ts), saving the ~0.7 ms a context
 * costs to build: never to two sessions at once, never while a data
 * connection still uses it, and a ticket sealed by its old keys does not
 * resume on it afterwards. The wire-level behaviour with real clients is in
 * the FTPS suites (curl, lftp, rclone's shared session cache, FileZilla).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { holdContext, TlsMaterial } from '../../src/server/tls/material.js';

const run = promisify(execFile);

async function material(t: { after: (fn: () => Promise<void>) => void }): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-recycle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
    { timeout: 30_000 },
  );
  return TlsMaterial.load(cert, key);
}

test("an ended session's context goes to the next session, once, and not while a data connection holds it", async (t) => {
  const m = await material(t);
  const a = m.newContext();
  m.retire(a);
  m.retire(a); // a session's clean-up may run twice: the context must not be kept twice
  const b = m.newContext();
  assert.equal(b, a, 'the ended context is reused');
  const c = m.newContext();
  assert.notEqual(c, b, 'one context, one live session');
  const release = holdContext(c);
  m.retire(c);
  const d = m.newContext();
  assert.notEqual(d, c, 'held by a data connection: not reused yet');
  release();
  assert.equal(m.newContext(), c, 'reused once its data connection closed');
});

/** One TLS 1.3 handshake against `context`; resolves with whether it resumed and the session to resume next. */
async function handshake(context: SecureContext, session?: Buffer): Promise<{ reused: boolean; session: Buffer | undefined }> {
  const server = net.createServer((raw) => {
    const s = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    s.on('error', () => undefined);
    s.once('secure', () => s.end('x'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as net.AddressInfo;
    const c = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...(session ? { session } : {}) });
    let next: Buffer | undefined;
    c.on('session', (s: Buffer) => (next = s));
    c.resume();
    await once(c, 'end');
    const reused = c.isSessionReused();
    c.destroy();
    return { reused, session: next };
  } finally {
    server.close();
  }
}

test('a ticket of the ended session does not resume on its context once reused; one of the new session does', async (t) => {
  const m = await material(t);
  const a = m.newContext();
  const first = await handshake(a);
  assert.ok(first.session, 'the server sent a ticket');
  assert.equal((await handshake(a, first.session)).reused, true, 'the same session resumes while it lives');
  m.retire(a);
  const b = m.newContext();
  assert.equal(b, a);
  assert.equal((await handshake(b, first.session)).reused, false, 'the old ticket does not open on the new keys');
  const fresh = await handshake(b);
  assert.equal((await handshake(b, fresh.session)).reused, true);
});
