/**
 * `[[hooks]]` and anonymous `hours`, with real clients: 50 concurrent
 * uploads by basic-ftp give exactly 50 command runs, each seeing the final
 * file; a URL hook against a receiver the test runs, retried through a
 * 503; a hanging hook is cut by its time limit without holding a session;
 * an interrupted upload fires nothing; the hours both ways with a fixed clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { bytes, curl, curlReplies, describe, sha256 } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';
import { startServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { sftpBatch, sshKeygen } from '../helpers/sftp.js';
import { loadConfigFile } from '../../src/config/load.js';

/** Reads the lines a command hook appended (it writes one line per run). */
async function lines(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

test('50 concurrent uploads (basic-ftp): exactly 50 upload hook runs, each after the file is in place', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-hooks-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'ran.txt');
  // Each run records the variables and the sha256 of the file at WHARF_LOCAL_PATH when it runs.
  const script = `printf '%s %s %s %s %s %s\\n' "$WHARF_EVENT" "$WHARF_PROTOCOL" "$WHARF_USER" "$WHARF_PATH" "$WHARF_SIZE" "$(sha256sum "$WHARF_LOCAL_PATH" | cut -d' ' -f1)" >> ${out}`;
  const srv = await startServer({ server: { max_connections_per_ip: 100 }, hooks: [{ event: 'upload', command: ['/bin/sh', '-c', script] }] });
  t.after(() => srv.close());
  const files = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.bin`, data: bytes(20_000 + i * 997, i + 1) }));
  await Promise.all(
    files.map(async (f) => {
      const c = new Client(20_000);
      try {
        await c.access({ host: '127.0.0.1', port: srv.port, user: 'alice', password: 'secret' });
        await c.uploadFrom(Readable.from([f.data]), f.name);
      } finally {
        c.close();
      }
    }),
  );
  await srv.server.hooks?.idle();
  const ran = await lines(out);
  assert.equal(ran.length, 50, ran.join('\n'));
  const expected = files.map((f) => `upload ftp alice /${f.name} ${f.data.length} ${sha256(f.data)}`).sort();
  assert.deepEqual([...ran].sort(), expected);
  assert.deepEqual(srv.server.hooks?.stats, { ok: 50, failed: 0, dropped: 0 });
});

test('a URL hook gets the event as JSON, retried through a 503; delete and mkdir hooks fire too', async (t) => {
  const got: Record<string, unknown>[] = [];
  let calls = 0;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      calls++;
      if (calls === 1) {
        res.writeHead(503).end('busy');
        return;
      }
      got.push({ ...(JSON.parse(body) as Record<string, unknown>), contentType: req.headers['content-type'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const url = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/events`;
  const srv = await startServer(
    {
      hooks: [
        { event: 'mkdir', url },
        { event: 'delete', url },
      ],
    },
    { hooks: { backoffMs: 20 } },
  );
  t.after(() => srv.close());
  await fs.writeFile(path.join(srv.aliceHome, 'gone.txt'), 'x');
  const r = await curl([`ftp://alice:secret@127.0.0.1:${srv.port}/`, '-Q', 'MKD newdir', '-Q', 'DELE gone.txt', '-l']);
  assert.equal(r.code, 0, describe(r));
  await srv.server.hooks?.idle();
  assert.equal(calls, 3, 'the first POST got 503 and was retried');
  const byEvent: Record<string, Record<string, unknown>> = Object.fromEntries(got.map((g) => [String(g['event']), g]));
  assert.deepEqual(byEvent['mkdir'], {
    event: 'mkdir',
    protocol: 'ftp',
    user: 'alice',
    remote_address: '127.0.0.1',
    path: '/newdir',
    size: 0,
    status: 'ok',
    local_path: path.join(srv.aliceHome, 'newdir'),
    contentType: 'application/json',
  });
  assert.equal(byEvent['delete']?.['path'], '/gone.txt');
  assert.deepEqual(srv.server.hooks?.stats, { ok: 2, failed: 0, dropped: 0 });
});

test('a hook that hangs is stopped at its time limit and counted as failed; sessions go on meanwhile', async (t) => {
  const srv = await startServer({ hooks: [{ event: 'download', command: ['/bin/sleep', '60'], timeout: 0.5 }] });
  t.after(() => srv.close());
  const failed = waitForEvent(srv.server, 'transfer');
  // Two downloads in a row: the second is not held up by the first one's hook.
  const a = await curl([`ftp://127.0.0.1:${srv.port}/hello.txt`]);
  const b = await curl([`ftp://127.0.0.1:${srv.port}/hello.txt`]);
  assert.equal(a.code, 0, describe(a));
  assert.equal(b.code, 0, describe(b));
  assert.equal((await failed).path, '/hello.txt');
  await srv.server.hooks?.idle();
  assert.deepEqual(srv.server.hooks?.stats, { ok: 0, failed: 2, dropped: 0 });
});

test('an interrupted upload fires no upload hook; a complete one fires one', async (t) => {
  const srv = await startServer({ hooks: [{ event: 'upload', command: ['/bin/true'] }] });
  t.after(() => srv.close());
  const ended = waitForEvent(srv.server, 'transfer', (e) => e.path === '/cut.bin');
  // Cut mid-upload: ABOR on the control connection while the data flows (no race with the data's end).
  const big = path.join(srv.dir, 'big.bin');
  await fs.writeFile(big, bytes(4_000_000, 3));
  const raw = await RawSession.open(srv.port);
  t.after(() => raw.close());
  await raw.login('alice', 'secret');
  const port = Number(/\|\|\|(\d+)\|/.exec((await raw.cmd('EPSV')).raw)?.[1]);
  const data = net.connect(port, '127.0.0.1');
  data.on('error', () => undefined);
  await new Promise((resolve) => data.once('connect', resolve));
  assert.equal((await raw.cmd('STOR cut.bin')).code, 150);
  data.write(bytes(200_000, 5));
  raw.write('ABOR\r\n');
  const e = await ended;
  assert.equal(e.ok, false);
  data.destroy();
  const ok = await curl(['-T', big, `ftp://alice:secret@127.0.0.1:${srv.port}/whole.bin`]);
  assert.equal(ok.code, 0, describe(ok));
  await srv.server.hooks?.idle();
  assert.deepEqual(srv.server.hooks?.stats, { ok: 1, failed: 0, dropped: 0 });
  await assert.rejects(fs.stat(path.join(srv.aliceHome, 'cut.bin')), 'no half file either');
});

test('anonymous hours with a fixed clock: outside, USER anonymous gets 421 with the hours; users unaffected; inside, anonymous works', async (t) => {
  let now = new Date('2026-12-02T12:00:00Z'); // 13:00 in Paris: outside 18:00-08:00
  const srv = await startServer({ anonymous: { hours: '18:00-08:00', timezone: 'Europe/Paris' } }, { clock: () => now });
  t.after(() => srv.close());
  let r = await curl(['-v', `ftp://127.0.0.1:${srv.port}/`]);
  assert.notEqual(r.code, 0);
  const last = curlReplies(r.stderr).at(-1);
  assert.equal(last?.code, 421, r.stderr);
  assert.equal(last?.text, 'Anonymous access is allowed only 18:00-08:00 (Europe/Paris); please come back then.');
  r = await curl([`ftp://alice:secret@127.0.0.1:${srv.port}/`, '-l']);
  assert.equal(r.code, 0, describe(r));
  now = new Date('2026-12-02T23:30:00Z'); // 00:30 in Paris: inside, across midnight
  r = await curl([`ftp://127.0.0.1:${srv.port}/`, '-l']);
  assert.equal(r.code, 0, describe(r));
  assert.match(r.stdout.toString(), /hello\.txt/);
});

test('anonymous hours over SFTP: outside them OpenSSH sftp is refused as anonymous, alice still logs in', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-hours-sftp-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const host = await sshKeygen(dir, 'host');
  const srv = await startServer(
    { anonymous: { hours: '18:00-08:00' }, sftp: { port: 0, host_keys: [host.key], anonymous: true } },
    { clock: () => new Date('2026-12-02T12:00:00Z') },
  );
  t.after(() => srv.close());
  const port = srv.server.addresses.sftp?.port ?? 0;
  const refused = waitForEvent(srv.server, 'login-failed');
  const anon = await sftpBatch(port, { user: 'anonymous', password: 'me@example.org' }, ['ls']);
  assert.notEqual(anon.code, 0, describe(anon));
  assert.equal((await refused).reason, 'outside-hours');
  const alice = await sftpBatch(port, { user: 'alice', password: 'secret' }, ['pwd']);
  assert.equal(alice.code, 0, describe(alice));
});

test('check-config: malformed hours, an unknown time zone and a hook with both command and url are one line each', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-hooks-cfg-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'wharf.toml');
  await fs.mkdir(path.join(dir, 'public'));
  await fs.writeFile(
    file,
    [
      '[anonymous]',
      'root = "public"',
      'hours = "25:00-08:00"',
      'timezone = "Mars/Olympus"',
      '[[hooks]]',
      'event = "upload"',
      'command = ["/bin/true"]',
      'url = "http://127.0.0.1:1/"',
      '',
    ].join('\n'),
  );
  await assert.rejects(loadConfigFile(file), (e: unknown) => {
    const lines = (e as { problems?: string[] }).problems ?? [];
    assert.ok(
      lines.some((l) => /: anonymous\.hours: must be HH:MM-HH:MM/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /: anonymous\.timezone: must be a time zone/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /: hooks\[0\]: needs exactly one of command or url/.test(l)),
      lines.join('\n'),
    );
    return true;
  });
});
