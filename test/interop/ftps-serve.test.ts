/**
 * FTPS and the `wharf serve` command: it refuses to start (exit 2, one
 * clear line naming tls.cert / tls.key) when the certificate or key is
 * missing, unreadable or the two do not match; SIGHUP reloads the
 * certificate for new connections without dropping the sessions already
 * open (which keep working, protected transfers included).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { run, tempDir, describe } from '../helpers/clients.js';
import { secretHash } from '../helpers/server.js';
import { certPair, fingerprintOf, FtpsControl, readAllBounded, within } from '../helpers/tls.js';

const BIN = path.resolve(import.meta.dirname, '../../../bin/wharf.js');

/** Writes a config serving a temp dir, with [tls] pointing at `cert`/`key`. */
async function writeConfig(t: TestContext, cert: string, key: string, extra = ''): Promise<{ config: string; dir: string; aliceHome: string }> {
  const { dir, cleanup } = await tempDir('wharf-serve-tls-');
  t.after(cleanup);
  const root = path.join(dir, 'anon');
  const aliceHome = path.join(dir, 'alice');
  await fs.mkdir(root);
  await fs.mkdir(aliceHome);
  const config = path.join(dir, 'wharf.toml');
  const toml = [
    '[server]',
    'host = "127.0.0.1"',
    'port = 0',
    'shutdown_grace = 0',
    '',
    '[anonymous]',
    `root = ${JSON.stringify(root)}`,
    '',
    '[[users]]',
    'name = "alice"',
    `password = ${JSON.stringify(await secretHash())}`,
    `home = ${JSON.stringify(aliceHome)}`,
    'permissions = ["*"]',
    '',
    '[tls]',
    `cert = ${JSON.stringify(cert)}`,
    `key = ${JSON.stringify(key)}`,
    'implicit_port = 0',
    extra,
  ].join('\n');
  await fs.writeFile(config, toml + '\n');
  return { config, dir, aliceHome };
}

async function serveMustRefuse(config: string, setting: RegExp): Promise<string> {
  const r = await run(process.execPath, [BIN, 'serve', '--config', config], { timeoutMs: 30_000 });
  assert.equal(r.timedOut, false, describe(r));
  assert.equal(r.code, 2, describe(r));
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, describe(r));
  const line = lines[0] as string;
  assert.match(line, /^wharf: /);
  assert.match(line, setting);
  assert.doesNotMatch(line, /\bat .*\.js/);
  assert.equal(r.stdout.toString(), '', 'nothing listens');
  return line;
}

test('wharf serve refuses to start (exit 2, one line naming tls.cert/tls.key): cert missing, key missing, key unreadable, key not matching the cert', async (t) => {
  const a = await certPair(t, 'a');
  const b = await certPair(t, 'b');

  const missingCert = path.join(a.dir, 'nope.pem');
  const l1 = await serveMustRefuse((await writeConfig(t, missingCert, a.key)).config, /tls\.cert/);
  assert.ok(l1.includes(missingCert), l1);

  const missingKey = path.join(a.dir, 'nokey.pem');
  const l2 = await serveMustRefuse((await writeConfig(t, a.cert, missingKey)).config, /tls\.key/);
  assert.ok(l2.includes(missingKey), l2);

  // Unreadable key: mode 000 for an ordinary user; root reads everything,
  // so there the key path is a directory (which cannot be read as a file).
  let unreadable: string;
  if (process.getuid?.() === 0) {
    unreadable = path.join(a.dir, 'key-dir');
    await fs.mkdir(unreadable);
  } else {
    unreadable = path.join(a.dir, 'locked.pem');
    await fs.copyFile(a.key, unreadable);
    await fs.chmod(unreadable, 0o000);
  }
  const l3 = await serveMustRefuse((await writeConfig(t, a.cert, unreadable)).config, /tls\.key/);
  assert.ok(l3.includes(unreadable), l3);

  // Two valid pairs, crossed.
  const l4 = await serveMustRefuse((await writeConfig(t, a.cert, b.key)).config, /tls\.key/);
  assert.match(l4, /match/i);

  // Not PEM at all.
  const junk = path.join(a.dir, 'junk.pem');
  await fs.writeFile(junk, 'this is not a key\n');
  await serveMustRefuse((await writeConfig(t, a.cert, junk)).config, /tls\.(cert|key)/);
});

/** Spawns `wharf serve`; resolves with the control and implicit ports. */
async function startCli(t: TestContext, config: string): Promise<{ child: ChildProcess; port: number; implicitPort: number; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  t.after(() => {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8');
  const ports = await within(
    new Promise<{ port: number; implicitPort: number }>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /ftp:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
        const i = /ftps:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
        if (m && i) resolve({ port: Number(m[1]), implicitPort: Number(i[1]) });
      });
      child.once('exit', (code) => reject(new Error(`wharf serve exited (${code}): ${out}${err}`)));
    }),
    30_000,
    'wharf serve to print its listening lines',
  );
  return { child, ...ports, stderr: () => err };
}

/** Waits (bounded) until the server's stderr log shows `event`, counting from `from`. */
async function waitLog(child: ChildProcess, stderr: () => string, event: string, from: number): Promise<void> {
  const seen = () => stderr().slice(from).includes(`"event":"${event}"`);
  if (seen()) return;
  await within(
    new Promise<void>((resolve) => {
      const on = () => {
        if (seen()) {
          child.stderr?.off('data', on);
          resolve();
        }
      };
      child.stderr?.on('data', on);
    }),
    15_000,
    `log event ${event}`,
  );
}

test('SIGHUP reloads the certificate: new connections see cert B, the open session keeps working; a bad reload keeps B', async (t) => {
  const a = await certPair(t, 'a');
  const b = await certPair(t, 'b');
  const { dir, cleanup } = await tempDir('wharf-live-cert-');
  t.after(cleanup);
  const liveCert = path.join(dir, 'cert.pem');
  const liveKey = path.join(dir, 'key.pem');
  await fs.copyFile(a.cert, liveCert);
  await fs.copyFile(a.key, liveKey);
  const fpA = await fingerprintOf(a.cert);
  const fpB = await fingerprintOf(b.cert);
  assert.notEqual(fpA, fpB);

  const { config, aliceHome } = await writeConfig(t, liveCert, liveKey, '\n[log]\nlevel = "info"');
  const srv = await startCli(t, config);
  await fs.writeFile(path.join(aliceHome, 'note.txt'), 'kept alive\n');

  // First session, implicit FTPS, on cert A.
  const first = await FtpsControl.implicit(srv.implicitPort);
  t.after(() => first.close());
  assert.equal(first.tlsSocket.getPeerCertificate().fingerprint256, fpA);
  await first.greeting();
  await first.login('alice', 'secret');

  // Swap the files for pair B and signal.
  await fs.copyFile(b.cert, liveCert);
  await fs.copyFile(b.key, liveKey);
  let mark = srv.stderr().length;
  srv.child.kill('SIGHUP');
  await waitLog(srv.child, srv.stderr, 'tls-reloaded', mark);

  const second = await FtpsControl.implicit(srv.implicitPort);
  t.after(() => second.close());
  assert.equal(second.tlsSocket.getPeerCertificate().fingerprint256, fpB);
  await second.greeting();
  const explicit = await FtpsControl.plain(srv.port);
  t.after(() => explicit.close());
  await explicit.greeting();
  await explicit.authTls();
  assert.equal(explicit.tlsSocket.getPeerCertificate().fingerprint256, fpB);

  // The first session is still there, still on A, and can transfer.
  assert.equal(first.closed, false);
  assert.equal((await first.cmd('NOOP')).code, 200);
  const raw = await first.passiveData();
  first.send('RETR note.txt');
  assert.equal((await first.read())?.code, 150);
  assert.equal((await readAllBounded(first.secureData(raw))).toString('utf8'), 'kept alive\n');
  assert.equal((await first.read())?.code, 226);

  // A reload with a key that does not match keeps serving B.
  await fs.copyFile(a.key, liveKey);
  mark = srv.stderr().length;
  srv.child.kill('SIGHUP');
  await waitLog(srv.child, srv.stderr, 'tls-reload-failed', mark);
  const third = await FtpsControl.implicit(srv.implicitPort);
  t.after(() => third.close());
  assert.equal(third.tlsSocket.getPeerCertificate().fingerprint256, fpB);
  await third.greeting();
  assert.equal(srv.child.exitCode, null);

  // A clean shutdown.
  srv.child.kill('SIGTERM');
  const [code] = (await within(once(srv.child, 'exit'), 20_000, 'wharf serve to exit')) as [number | null];
  assert.equal(code, 0);
});
