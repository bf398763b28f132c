/**
 * FTPS interop: Python's ftplib.FTP_TLS with prot_p(). Stock ftplib does
 * not resume the control connection's TLS session on data connections, so
 * with the default require_session_reuse Wharf must refuse its data
 * connections (522) — this is also the "data connection that does not
 * reuse the session is refused" check with a real client. The well-known
 * fix (a subclass passing `session=self.sock.session` to wrap_socket in
 * ntransfercmd) must work in passive and active mode, and with
 * require_session_reuse = false stock ftplib works.
 *
 * When a data connection is refused, ftplib first sees the data socket
 * fail (an SSL error) and the 522 reply is then waiting on the control
 * connection: the script reads it with getresp(), as a careful user would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, python, sha256 } from '../helpers/clients.js';
import { fileSha256, startFtps, type FtpsServer } from '../helpers/tls.js';

const SIZE = 5 * 1024 * 1024;

const SCRIPT = String.raw`
import ftplib, json, ssl, sys

port, kind, passive, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3] == '1', sys.argv[4], sys.argv[5]

class ReusingFTP_TLS(ftplib.FTP_TLS):
    """The usual fix: resume the control connection's TLS session."""
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
cls = ReusingFTP_TLS if kind == 'reuse' else ftplib.FTP_TLS
ftp = cls(context=ctx, timeout=20)
out = {'welcome': ftp.connect('127.0.0.1', port)}
out['auth'] = ftp.auth()
out['login'] = ftp.login('alice', 'secret')
out['prot'] = ftp.prot_p()
ftp.set_pasv(passive)

def attempt(fn):
    try:
        return {'ok': fn()}
    except (ftplib.error_reply, ftplib.error_temp, ftplib.error_perm) as e:
        return {'error': type(e).__name__, 'text': str(e), 'reply': str(e)}
    except Exception as e:
        # The data connection failed; its reply is waiting on the control connection.
        r = {'error': type(e).__name__, 'text': str(e)}
        try:
            r['reply'] = ftp.getresp()
        except Exception as e2:
            r['reply'] = str(e2)
        return r

def stor():
    with open(src, 'rb') as fh:
        return ftp.storbinary('STOR up.bin', fh)

def retr():
    with open(dst, 'wb') as fh:
        return ftp.retrbinary('RETR seed.bin', fh.write)

out['stor'] = attempt(stor)
out['retr'] = attempt(retr)
out['noop'] = ftp.voidcmd('NOOP')
out['quit'] = ftp.quit()
print(json.dumps(out))
`;

interface Step {
  ok?: string;
  error?: string;
  text?: string;
  reply?: string;
}
interface Outcome {
  auth: string;
  prot: string;
  stor: Step;
  retr: Step;
  noop: string;
}

async function runFtplib(f: FtpsServer, kind: 'stock' | 'reuse', passive: boolean): Promise<{ outcome: Outcome; up: Buffer; seed: Buffer; dst: string }> {
  const up = randomBytes(SIZE);
  const seed = randomBytes(SIZE);
  const src = path.join(f.tmp, 'src.bin');
  const dst = path.join(f.tmp, 'dst.bin');
  await fs.writeFile(src, up);
  await fs.writeFile(path.join(f.srv.aliceHome, 'seed.bin'), seed);
  const r = await python(SCRIPT, [String(f.port), kind, passive ? '1' : '0', src, dst]);
  assert.equal(r.code, 0, describe(r));
  const outcome = JSON.parse(r.stdout.toString('utf8')) as Outcome;
  assert.match(outcome.auth, /^234 /);
  assert.match(outcome.prot, /^200 /);
  return { outcome, up, seed, dst };
}

test('ftplib stock FTP_TLS + prot_p(): data connections without session reuse are refused with 522 (default require_session_reuse)', async (t) => {
  const f = await startFtps(t);
  for (const passive of [true, false]) {
    const { outcome } = await runFtplib(f, 'stock', passive);
    for (const step of [outcome.stor, outcome.retr]) {
      assert.equal(step.ok, undefined, JSON.stringify(outcome));
      assert.match(step.reply ?? '', /^522 .*reuse/i, JSON.stringify(outcome));
    }
    // The refused upload left nothing behind; the control connection still works.
    await assert.rejects(fs.stat(path.join(f.srv.aliceHome, 'up.bin')), { code: 'ENOENT' });
    assert.match(outcome.noop, /^200/);
  }
});

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';
  test(`ftplib FTP_TLS reusing the TLS session (session=self.sock.session), ${mode}: 5 MiB STOR and RETR, sha256`, async (t) => {
    const f = await startFtps(t);
    const { outcome, up, seed, dst } = await runFtplib(f, 'reuse', passive);
    assert.match(outcome.stor.ok ?? '', /^226 /, JSON.stringify(outcome));
    assert.match(outcome.retr.ok ?? '', /^226 /, JSON.stringify(outcome));
    assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'up.bin')), sha256(up));
    assert.equal(await fileSha256(dst), sha256(seed));
  });
}

test('ftplib stock FTP_TLS with require_session_reuse = false: passive and active STOR and RETR work, sha256', async (t) => {
  const f = await startFtps(t, { require_session_reuse: false });
  for (const passive of [true, false]) {
    const { outcome, up, seed, dst } = await runFtplib(f, 'stock', passive);
    assert.match(outcome.stor.ok ?? '', /^226 /, JSON.stringify(outcome));
    assert.match(outcome.retr.ok ?? '', /^226 /, JSON.stringify(outcome));
    assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'up.bin')), sha256(up));
    assert.equal(await fileSha256(dst), sha256(seed));
  }
});
