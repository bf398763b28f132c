/**
 * FTPS protocol and policy checks with a raw client on Node's `tls`:
 * FEAT, AUTH/PBSZ/PROT/CCC sequencing, the require = "users" | "all"
 * policy, session reuse on data connections (a TLS client that does not
 * resume the control connection's session is refused: a stolen data port
 * is useless), active-mode TLS data connections (which curl 7.88.1 cannot
 * test, curl issue #10666), the implicit port dropping a plain-text
 * client without hurting others, and TLS 1.2 as the minimum version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startServer } from '../helpers/server.js';
import { describe, run, sha256 } from '../helpers/clients.js';
import { FtpsControl, fileSha256, readAllBounded, startFtps, within } from '../helpers/tls.js';

async function explicitSession(t: { after(fn: () => void): void }, port: number): Promise<FtpsControl> {
  const c = await FtpsControl.plain(port);
  t.after(() => c.close());
  await c.greeting();
  return c;
}

function featLines(lines: string[]): string[] {
  return lines.slice(1, -1).map((l) => l.trim());
}

test('FEAT lists AUTH TLS, PBSZ and PROT only when [tls] is configured', async (t) => {
  const f = await startFtps(t);
  const c = await explicitSession(t, f.port);
  const feat = await c.cmd('FEAT');
  assert.equal(feat.code, 211);
  const lines = featLines(feat.lines);
  for (const want of ['AUTH TLS', 'PBSZ', 'PROT']) assert.ok(lines.includes(want), feat.raw);

  const plain = await startServer();
  t.after(() => plain.close());
  const p = await explicitSession(t, plain.port);
  const feat2 = await p.cmd('FEAT');
  assert.equal(feat2.code, 211);
  for (const l of featLines(feat2.lines)) assert.doesNotMatch(l, /^(AUTH|PBSZ|PROT)\b/, feat2.raw);
  const auth = await p.cmd('AUTH TLS');
  assert.ok(auth.code >= 500 && auth.code < 600, auth.raw);
});

test('PBSZ and PROT before AUTH TLS get 503; AUTH SSL is accepted; CCC is refused with 534', async (t) => {
  const f = await startFtps(t);
  const c = await explicitSession(t, f.port);
  assert.equal((await c.cmd('PBSZ 0')).code, 503);
  assert.equal((await c.cmd('PROT P')).code, 503);
  await c.authTls('AUTH SSL');
  assert.equal((await c.cmd('AUTH TLS')).code, 503); // already TLS
  assert.equal((await c.cmd('PROT P')).code, 503); // PBSZ first
  assert.equal((await c.cmd('PBSZ 0')).code, 200);
  assert.equal((await c.cmd('PROT P')).code, 200);
  await c.login('alice', 'secret');
  const ccc = await c.cmd('CCC');
  assert.equal(ccc.code, 534, ccc.raw);
  // Still TLS and still working after the refusal.
  assert.equal((await c.cmd('NOOP')).code, 200);
  assert.equal(c.tlsSocket.encrypted, true);
});

test('require="users": alice needs TLS (530), anonymous works in clear, 521 before PROT P, PROT C refused with 534', async (t) => {
  const f = await startFtps(t, { require: 'users' });
  const seed = randomBytes(100_000);
  await fs.writeFile(path.join(f.srv.aliceHome, 'seed.bin'), seed);

  // alice in clear: refused before any password is asked for.
  const clear = await explicitSession(t, f.port);
  const u = await clear.cmd('USER alice');
  assert.equal(u.code, 530, u.raw);
  assert.match(u.lines.join(' '), /TLS/);
  const pass = await clear.cmd('PASS secret');
  assert.notEqual(pass.code, 230, pass.raw);

  // Anonymous in clear still works, data in clear too.
  const anon = await explicitSession(t, f.port);
  await anon.login('anonymous', 'guest@example.com');
  const data = await anon.passiveData();
  const r = await anon.cmd('RETR hello.txt');
  assert.equal(r.code, 150, r.raw);
  assert.equal((await readAllBounded(data)).toString('utf8'), 'Hello, world!\n');
  assert.equal((await anon.read())?.code, 226);

  // alice over TLS, before PROT P: transfers refused with 521.
  const c = await explicitSession(t, f.port);
  await c.authTls();
  await c.login('alice', 'secret');
  await c.passiveData();
  const refused = await c.cmd('RETR seed.bin');
  assert.equal(refused.code, 521, refused.raw);
  await c.passiveData();
  const refusedStor = await c.cmd('STOR new.bin');
  assert.equal(refusedStor.code, 521, refusedStor.raw);
  await assert.rejects(fs.stat(path.join(f.srv.aliceHome, 'new.bin')), { code: 'ENOENT' });
  assert.equal((await c.cmd('PBSZ 0')).code, 200);
  const protC = await c.cmd('PROT C');
  assert.equal(protC.code, 534, protC.raw);
  await c.passiveData();
  assert.equal((await c.cmd('LIST')).code, 521);

  // With PROT P the same transfer works.
  assert.equal((await c.cmd('PROT P')).code, 200);
  const raw = await c.passiveData();
  c.send('RETR seed.bin');
  assert.equal((await c.read())?.code, 150);
  const got = await readAllBounded(c.secureData(raw));
  assert.equal(sha256(got), sha256(seed));
  assert.equal((await c.read())?.code, 226);
});

test('require="all": anonymous USER before AUTH TLS gets 530; after AUTH TLS anonymous works', async (t) => {
  const f = await startFtps(t, { require: 'all' });
  const c = await explicitSession(t, f.port);
  const u = await c.cmd('USER anonymous');
  assert.equal(u.code, 530, u.raw);
  assert.match(u.lines.join(' '), /TLS/);
  const a = await c.cmd('USER alice');
  assert.equal(a.code, 530, a.raw);
  await c.authTls();
  await c.login('anonymous', 'guest@example.com');
  await c.protP();
  const raw = await c.passiveData();
  c.send('RETR hello.txt');
  assert.equal((await c.read())?.code, 150);
  assert.equal((await readAllBounded(c.secureData(raw))).toString('utf8'), 'Hello, world!\n');
  assert.equal((await c.read())?.code, 226);
});

test('a data connection whose TLS handshake does not resume the control session is refused with 522 (no bytes leak)', async (t) => {
  const f = await startFtps(t);
  const secret = randomBytes(200_000);
  await fs.writeFile(path.join(f.srv.aliceHome, 'secret.bin'), secret);
  const c = await explicitSession(t, f.port);
  await c.authTls();
  await c.login('alice', 'secret');
  await c.protP();

  // Another TLS client (a fresh session) on the data port.
  const raw = await c.passiveData();
  c.send('RETR secret.bin');
  assert.equal((await c.read())?.code, 150);
  const thief = c.secureData(raw, false);
  const stolen: Buffer[] = [];
  thief.on('data', (d: Buffer) => stolen.push(d));
  await within(once(thief, 'close'), 10_000, 'the refused data connection to close');
  const r = await c.read();
  assert.equal(r?.code, 522, r?.raw);
  assert.equal(Buffer.concat(stolen).length, 0);

  // The same session, resuming: works.
  const raw2 = await c.passiveData();
  c.send('RETR secret.bin');
  assert.equal((await c.read())?.code, 150);
  assert.equal(sha256(await readAllBounded(c.secureData(raw2))), sha256(secret));
  assert.equal((await c.read())?.code, 226);
});

for (const implicit of [false, true]) {
  test(`active mode (EPRT) with TLS data connections, ${implicit ? 'implicit' : 'explicit'} FTPS: 5 MiB STOR and RETR, sha256`, async (t) => {
    const f = await startFtps(t);
    const data = randomBytes(5 * 1024 * 1024);
    let c: FtpsControl;
    if (implicit) {
      c = await FtpsControl.implicit(f.implicitPort);
      t.after(() => c.close());
      await c.greeting();
      await c.login('alice', 'secret');
      await c.protP();
    } else {
      c = await explicitSession(t, f.port);
      await c.authTls();
      await c.login('alice', 'secret');
      await c.protP();
    }

    const acceptUp = await c.activeData();
    c.send('STOR up.bin');
    assert.equal((await c.read())?.code, 150);
    const up = c.secureData(await acceptUp());
    await within(once(up, 'secureConnect'), 10_000, 'TLS on the active data connection');
    assert.equal(up.isSessionReused(), true);
    up.end(data);
    assert.equal((await c.read(20_000))?.code, 226);
    assert.equal(await fileSha256(path.join(f.srv.aliceHome, 'up.bin')), sha256(data));

    const acceptDown = await c.activeData();
    c.send('RETR up.bin');
    assert.equal((await c.read())?.code, 150);
    const down = c.secureData(await acceptDown());
    assert.equal(sha256(await readAllBounded(down)), sha256(data));
    assert.equal((await c.read())?.code, 226);
  });
}

test('a plain-text client on the implicit port is dropped while a concurrent implicit-TLS session keeps working', async (t) => {
  const f = await startFtps(t);
  const good = await FtpsControl.implicit(f.implicitPort);
  t.after(() => good.close());
  await good.greeting();
  await good.login('alice', 'secret');

  const plain = net.connect({ port: f.implicitPort, host: '127.0.0.1' });
  t.after(() => plain.destroy());
  plain.on('error', () => undefined);
  await within(once(plain, 'connect'), 10_000, 'plain connect');
  const received: Buffer[] = [];
  plain.on('data', (d: Buffer) => received.push(d));
  plain.write('USER anonymous\r\n');
  // Well inside the 30 s login timeout: the failed handshake itself ends it.
  await within(once(plain, 'close'), 15_000, 'the server to drop the plain-text client');
  // Never greeted in clear text: no FTP reply leaked to it.
  assert.doesNotMatch(Buffer.concat(received).toString('latin1'), /^\d{3}[ -]/m);

  // The good session is unaffected: a command and a protected transfer.
  assert.equal((await good.cmd('NOOP')).code, 200);
  await fs.writeFile(path.join(f.srv.aliceHome, 'a.txt'), 'still here\n');
  const raw = await good.passiveData();
  good.send('RETR a.txt');
  assert.equal((await good.read())?.code, 150);
  assert.equal((await readAllBounded(good.secureData(raw))).toString('utf8'), 'still here\n');
  assert.equal((await good.read())?.code, 226);
  // And new implicit sessions are still accepted.
  const again = await FtpsControl.implicit(f.implicitPort);
  t.after(() => again.close());
  await again.greeting();
});

test('TLS 1.2 is the minimum: openssl s_client -tls1_1 fails the handshake (explicit and implicit), -tls1_2 succeeds', async (t) => {
  const f = await startFtps(t);
  const sClient = (args: string[]) => run('openssl', ['s_client', '-brief', '-cipher', 'DEFAULT@SECLEVEL=0', ...args], { timeoutMs: 30_000 });
  const explicit = ['-connect', `127.0.0.1:${f.port}`, '-starttls', 'ftp'];
  const implicit = ['-connect', `127.0.0.1:${f.implicitPort}`];

  for (const target of [explicit, implicit]) {
    const old = await sClient([...target, '-tls1_1']);
    assert.notEqual(old.code, 0, describe(old));
    assert.equal(old.timedOut, false, describe(old));
    assert.doesNotMatch(old.stderr + old.stdout.toString(), /CONNECTION ESTABLISHED|Protocol version: TLSv1\.1/, describe(old));
    const ok = await sClient([...target, '-tls1_2']);
    assert.equal(ok.code, 0, describe(ok));
    assert.match(ok.stderr + ok.stdout.toString(), /Protocol version: TLSv1\.2/, describe(ok));
  }
  // On the explicit port the refusal is a proper "protocol version" alert.
  const alert = await sClient([...explicit, '-tls1_1']);
  assert.match(alert.stderr, /alert protocol version/i, describe(alert));
});
