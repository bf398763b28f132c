/**
 * Reading which ticket key a ClientHello names (src/server/tls/hello.ts),
 * against Node's own TLS stack: a session from a server with known
 * `ticketKeys` is offered back in a ClientHello, over TLS 1.3 (a PSK
 * identity) and TLS 1.2 (the session_ticket extension), and the name read
 * from it must be the first 16 bytes of those keys: the assumption the
 * sibling-session check rests on. Plus a hello in pieces (several TCP reads,
 * several TLS records) and bytes that are not a hello.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type net from 'node:net';
import tls from 'node:tls';
import { clientHelloFrom, ticketKeyNames } from '../../src/server/tls/hello.js';
import { certPair, within } from '../helpers/tls.js';
import { clientHello } from '../helpers/probes.js';

/** The bytes a TLS client sends first when offering `session`. */
function helloOffering(session: Buffer | undefined, maxVersion: tls.SecureVersion): Promise<Buffer> {
  return clientHello({ session, maxVersion });
}

/** A session ticket from a TLS server using `ticketKeys`. */
async function sessionFrom(cert: { cert: string; key: string }, ticketKeys: Buffer, maxVersion: tls.SecureVersion): Promise<Buffer> {
  const server = tls.createServer({ cert: await readFile(cert.cert), key: await readFile(cert.key), ticketKeys }, (s) => s.end('hi'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const client = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, maxVersion });
    client.on('error', () => undefined);
    const [session] = (await within(once(client, 'session'), 10_000, 'a session ticket')) as [Buffer];
    client.destroy();
    return session;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`${version}: the ticket key name read from a ClientHello is the one the issuing server's ticketKeys start with`, async (t) => {
    const cert = await certPair(t);
    const keys = randomBytes(48);
    const hello = await helloOffering(await sessionFrom(cert, keys, version), version);
    const message = clientHelloFrom(hello);
    assert.ok(Buffer.isBuffer(message), 'a whole ClientHello');
    const names = ticketKeyNames(message);
    assert.ok(names.length >= 1, 'the hello offers the ticket');
    for (const name of names) assert.deepEqual(name, keys.subarray(0, 16));

    // Without a session there is nothing to name.
    const fresh = clientHelloFrom(await helloOffering(undefined, version));
    assert.ok(Buffer.isBuffer(fresh));
    assert.deepEqual(ticketKeyNames(fresh), []);
  });
}

test('a ClientHello in pieces: more is needed until it is whole, also when it spans two TLS records', async (t) => {
  const cert = await certPair(t);
  const keys = randomBytes(48);
  const hello = await helloOffering(await sessionFrom(cert, keys, 'TLSv1.3'), 'TLSv1.3');
  for (const cut of [0, 3, 5, 9, 40, hello.length - 1]) assert.equal(clientHelloFrom(hello.subarray(0, cut)), 'more', `cut at ${cut}`);

  // The same handshake message in two records.
  const body = hello.subarray(5);
  const record = (part: Buffer) => Buffer.concat([Buffer.from([22, 3, 1, part.length >> 8, part.length & 255]), part]);
  const split = Buffer.concat([record(body.subarray(0, 100)), record(body.subarray(100))]);
  assert.equal(clientHelloFrom(split.subarray(0, 110)), 'more');
  const joined = clientHelloFrom(split);
  assert.ok(Buffer.isBuffer(joined));
  assert.deepEqual(joined, body);
  assert.deepEqual(ticketKeyNames(joined)[0], keys.subarray(0, 16));
});

test('bytes that are not a ClientHello name no ticket and never throw', () => {
  assert.equal(clientHelloFrom(Buffer.from('USER anonymous\r\n')), null);
  assert.equal(clientHelloFrom(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])), null, 'a handshake that is not a ClientHello');
  assert.equal(clientHelloFrom(Buffer.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff])), null, 'longer than any ClientHello');
  for (let n = 0; n < 200; n++) {
    const junk = randomBytes(n);
    assert.doesNotThrow(() => ticketKeyNames(Buffer.concat([Buffer.from([1, 0, 0, n]), junk])));
  }
  assert.deepEqual(ticketKeyNames(Buffer.alloc(0)), []);
});
