import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineDecoder } from '../../src/protocol/lineDecoder.js';
import { parseCommand } from '../../src/protocol/command.js';
import { resolveVirtualPath, BadPathError } from '../../src/vfs/path.js';
import { parseEprt, parseHostPort } from '../../src/protocol/address.js';
import { startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';

const VERBS = [
  'USER',
  'PASS',
  'ACCT',
  'CWD',
  'CDUP',
  'REIN',
  'PORT',
  'PASV',
  'EPSV',
  'EPRT',
  'TYPE',
  'STRU',
  'MODE',
  'RETR',
  'STOR',
  'STOU',
  'APPE',
  'ALLO',
  'REST',
  'RNFR',
  'RNTO',
  'ABOR',
  'DELE',
  'RMD',
  'MKD',
  'PWD',
  'LIST',
  'NLST',
  'SITE',
  'SYST',
  'STAT',
  'HELP',
  'NOOP',
  'FEAT',
  'OPTS',
  'SIZE',
  'MDTM',
  'MFMT',
  'MLSD',
  'MLST',
  'XPWD',
  'XCWD',
  'XCUP',
  'XMKD',
  'XRMD',
];

const hostileArg = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.constantFrom(
    '../../../../etc/passwd',
    '/..',
    '..\\..\\..',
    '\0',
    'a\0b',
    '*',
    '[',
    '-la ../..',
    '|1|127.0.0.2|80|',
    '1,2,3,4,5,6',
    '99999999999999999999',
    '%n%s%x',
    'x'.repeat(3000),
  ),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
);

test('pure parsers never throw unexpectedly on random input', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
      const d = new LineDecoder(128);
      for (const c of chunks) for (const ev of d.push(c)) if (ev.kind === 'line') parseCommand(ev.line);
      assert.ok(d.pending <= 129);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string(), fc.string(), (cwd, arg) => {
      try {
        // eslint-disable-next-line no-control-regex -- the control characters are the point
        const p = resolveVirtualPath('/' + cwd.replace(/[\0-\x1f]/g, ''), arg);
        assert.ok(p.startsWith('/'));
        assert.ok(!p.split('/').includes('..'));
      } catch (err) {
        assert.ok(err instanceof BadPathError);
      }
      parseEprt(arg);
      parseHostPort(arg);
    }),
    { numRuns: 1000 },
  );
});

test('a live session survives random and hostile commands, then a normal client works', async (t) => {
  const srv = await startServer({ server: { max_connections_per_ip: 100 } });
  t.after(() => srv.close());
  const lines = fc.sample(
    fc.oneof(
      fc.tuple(fc.constantFrom(...VERBS), hostileArg).map(([v, a]) => `${v} ${a}`),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    ),
    { numRuns: 400, seed: 42 },
  );
  for (let batch = 0; batch < 4; batch++) {
    const s = await RawSession.open(srv.port);
    await s.read();
    if (batch % 2 === 0) await s.cmd('USER anonymous').then(() => s.cmd('PASS fuzz@example.com'));
    else await s.cmd('USER alice').then(() => s.cmd('PASS secret'));
    for (const line of lines.slice(batch * 100, batch * 100 + 100)) {
      s.write(Buffer.from(line.replace(/[\r\n]/g, ' ') + '\r\n', 'latin1'));
    }
    s.write('NOOP\r\n');
    // Read replies until the NOOP's 200 (or the server closes), bounded.
    for (let i = 0; i < 400; i++) {
      const r = await s.read(10000);
      if (!r) break;
      assert.ok(r.code >= 100 && r.code < 600, r.raw);
      if (r.code === 200 && r.lines[0] === 'NOOP ok.') break;
    }
    s.close();
  }
  // An overlong line gets one 500 when it ends, and the session goes on; a line
  // that never ends gets one 421 and the close. Never both for one line.
  const flood = await RawSession.open(srv.port);
  await flood.read();
  flood.write('A'.repeat(5000) + '\r\n');
  assert.equal((await flood.read())?.code, 500);
  assert.equal((await flood.cmd('NOOP')).code, 200);
  flood.write('B'.repeat(300 * 1024));
  const r = await flood.read();
  assert.equal(r?.code, 421);
  assert.equal(await flood.read(), null);
  await flood.waitClosed();
  // A normal client still works.
  const n = await RawSession.open(srv.port);
  t.after(() => n.close());
  await n.login();
  await n.cmd('TYPE I');
  const data = await n.passive();
  assert.equal((await n.cmd('RETR hello.txt')).code, 150);
  assert.equal((await readAll(data)).toString(), 'Hello, world!\n');
  assert.equal((await n.read())?.code, 226);
  // Nothing escaped into the anonymous root.
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual((await readdir(srv.root)).sort(), ['hello.txt', 'incoming', 'pub']);
});
