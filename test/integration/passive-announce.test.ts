/**
 * `passive_addresses`: PASV announces the address mapped to the client's
 * network (longest prefix), else `passive_address`; with the PROXY
 * protocol, the client's network is the one in the header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, run, sha256 } from '../helpers/clients.js';
import { proxyV1 } from '../helpers/proxy.js';
import { RawSession } from '../helpers/raw.js';
import { startServer } from '../helpers/server.js';

/** The address of a 227 reply. */
function announced(raw: string): string {
  const m = /\((\d+),(\d+),(\d+),(\d+),\d+,\d+\)/.exec(raw);
  assert.ok(m, raw);
  return m.slice(1, 5).join('.');
}

async function pasvFrom(port: number, localAddress: string, preamble?: Buffer): Promise<string> {
  const s = await RawSession.open(port, '127.0.0.1', localAddress, preamble);
  try {
    await s.login();
    const r = await s.cmd('PASV');
    assert.equal(r.code, 227, r.raw);
    return announced(r.raw);
  } finally {
    s.close();
  }
}

test('passive_addresses: each client network is told its own address; curl downloads through the mapped one', async (t) => {
  // 127.0.0.2 is not where the passive listeners are: a client told it could not connect.
  const srv = await startServer({ server: { passive_address: '127.0.0.2', passive_addresses: { '127.0.0.0/8': '127.0.0.1', '127.0.0.5/32': '127.0.0.9' } } });
  t.after(() => srv.close());
  const payload = Buffer.alloc(300_000, 7);
  await writeFile(join(srv.root, 'file.bin'), payload);
  assert.equal(await pasvFrom(srv.port, '127.0.0.1'), '127.0.0.1');
  assert.equal(await pasvFrom(srv.port, '127.0.0.5'), '127.0.0.9', 'the longest prefix wins');
  const got = await run('curl', ['-sS', '--noproxy', '*', '--disable-epsv', '--max-time', '20', `ftp://127.0.0.1:${srv.port}/file.bin`]);
  assert.equal(got.code, 0, describe(got));
  assert.equal(sha256(got.stdout), sha256(payload));
});

test('passive_addresses with the PROXY protocol: the network in the header decides', async (t) => {
  const srv = await startServer({
    server: { proxy_protocol: true, trusted_proxies: ['127.0.0.1/32'], passive_address: '203.0.113.7', passive_addresses: { '10.0.0.0/8': '10.0.0.5' } },
  });
  t.after(() => srv.close());
  const inside = proxyV1({ address: '10.1.2.3', port: 40000 }, { address: '127.0.0.1', port: srv.port });
  const outside = proxyV1({ address: '198.51.100.20', port: 40000 }, { address: '127.0.0.1', port: srv.port });
  assert.equal(await pasvFrom(srv.port, '127.0.0.1', inside), '10.0.0.5');
  assert.equal(await pasvFrom(srv.port, '127.0.0.1', outside), '203.0.113.7');
});
