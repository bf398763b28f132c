/**
 * The PROXY protocol decoder: every sample whole, byte by byte and split
 * at every point (two chunks), with the bytes after the header handed back
 * intact; malformed, truncated and over-long headers are errors, as soon
 * as a byte shows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv6, ProxyDecoder, PROXY_V2_SIGNATURE, type ProxyHeader, type ProxyResult } from '../../src/protocol/proxy.js';
import { ipv6Bytes, proxyV1, proxyV2 } from '../helpers/proxy.js';

const PAYLOAD = Buffer.from('USER anonymous\r\n');

/** Feeds `chunks` to a fresh decoder; returns the first final result (or need-more). */
function feed(chunks: Buffer[]): ProxyResult {
  const d = new ProxyDecoder();
  let last: ProxyResult = { kind: 'need-more' };
  for (const c of chunks) {
    last = d.push(c);
    if (last.kind !== 'need-more') return last;
  }
  return last;
}

/** Every way of cutting `data`: whole, byte by byte, and in two at each point. */
function splits(data: Buffer): Buffer[][] {
  const out: Buffer[][] = [[data], [...data].map((b) => Buffer.from([b]))];
  for (let i = 1; i < data.length; i++) out.push([data.subarray(0, i), data.subarray(i)]);
  return out;
}

/** Checks one sample at every split: the header, then exactly the bytes that followed it. */
function checkSample(bytes: Buffer, expected: ProxyHeader): void {
  const data = Buffer.concat([bytes, PAYLOAD]);
  for (const chunks of splits(data)) {
    const d = new ProxyDecoder();
    let header: ProxyHeader | null = null;
    const rest: Buffer[] = [];
    for (const c of chunks) {
      if (header) {
        rest.push(c);
        continue;
      }
      const r = d.push(c);
      assert.notEqual(r.kind, 'error', `error at split ${chunks[0]?.length}: ${r.kind === 'error' ? r.reason : ''}`);
      if (r.kind === 'header') {
        header = r.header;
        rest.push(r.rest);
      }
    }
    assert.deepEqual(header, expected, `split ${chunks.map((c) => c.length).join('+')}`);
    assert.deepEqual(Buffer.concat(rest), PAYLOAD);
  }
  // The header alone is complete too (nothing after it).
  const alone = feed([bytes]);
  assert.equal(alone.kind, 'header');
  if (alone.kind === 'header') assert.equal(alone.rest.length, 0);
}

const v4 = { src: { address: '192.0.2.10', port: 56324 }, dst: { address: '198.51.100.1', port: 21 } };
const v6 = { src: { address: '2001:db8::5', port: 40000 }, dst: { address: '2001:db8:1:2:3:4:5:6', port: 2121 } };

test('v1 TCP4, TCP6 and UNKNOWN at every split point', () => {
  checkSample(proxyV1(v4.src, v4.dst), { version: 1, local: false, family: 'tcp4', source: v4.src, destination: v4.dst });
  checkSample(proxyV1(v6.src, v6.dst), { version: 1, local: false, family: 'tcp6', source: v6.src, destination: v6.dst });
  checkSample(Buffer.from('PROXY UNKNOWN\r\n'), { version: 1, local: true, family: 'unknown' });
  checkSample(Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'), { version: 1, local: true, family: 'unknown' });
});

test('v1: the longest line (107 bytes) is accepted', () => {
  const long = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const line = proxyV1({ address: long, port: 65535 }, { address: long, port: 65535 });
  assert.equal(line.length, 104);
  const unknown = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`);
  assert.equal(unknown.length, 107);
  checkSample(unknown, { version: 1, local: true, family: 'unknown' });
  checkSample(line, { version: 1, local: false, family: 'tcp6', source: { address: long, port: 65535 }, destination: { address: long, port: 65535 } });
});

test('v2 PROXY over IPv4 and IPv6, with TLVs skipped, at every split point', () => {
  checkSample(proxyV2(v4.src, v4.dst), { version: 2, local: false, family: 'tcp4', source: v4.src, destination: v4.dst });
  checkSample(proxyV2(v6.src, v6.dst), { version: 2, local: false, family: 'tcp6', source: v6.src, destination: v6.dst });
  const tlvs = [
    { type: 0x04, value: Buffer.alloc(0) },
    { type: 0x05, value: Buffer.from('unique-id-1234') },
    { type: 0xea, value: Buffer.from('vpce-0123456789') },
  ];
  checkSample(proxyV2(v4.src, v4.dst, { tlvs }), { version: 2, local: false, family: 'tcp4', source: v4.src, destination: v4.dst });
});

test('v2 LOCAL, UNSPEC and UNIX carry no client address', () => {
  const local = { version: 2 as const, local: true, family: 'unknown' as const };
  checkSample(proxyV2(null, null, { local: true }), local);
  // LOCAL with addresses (HAProxy's health checks may send them): ignored.
  checkSample(proxyV2(v4.src, v4.dst, { local: true }), local);
  checkSample(proxyV2(null, null, { famProto: 0x00 }), local);
  const unix = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x31, 0x00, 216]), Buffer.alloc(216)]);
  checkSample(unix, local);
});

test('v2 IPv4-mapped and compressed IPv6 addresses print in RFC 5952 form', () => {
  assert.equal(formatIPv6(ipv6Bytes('::ffff:192.0.2.1')), '::ffff:192.0.2.1');
  assert.equal(formatIPv6(ipv6Bytes('::1')), '::1');
  assert.equal(formatIPv6(ipv6Bytes('::')), '::');
  assert.equal(formatIPv6(ipv6Bytes('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(ipv6Bytes('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIPv6(ipv6Bytes('fe80::')), 'fe80::');
});

/** Asserts that `data`, fed whole and byte by byte, is an error (and never a header). */
function assertError(data: Buffer, why: string): void {
  for (const chunks of [[data], [...data].map((b) => Buffer.from([b]))]) {
    const r = feed(chunks);
    assert.equal(r.kind, 'error', `${why}: ${r.kind}`);
  }
}

test('v1 malformed lines are errors', () => {
  const bad = [
    'PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 1 2\rX',
    'PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n',
    'PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n',
    'PROXY TCP4 192.0.2.256 192.0.2.2 1 2\r\n',
    'PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n',
    'PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n',
    'PROXY TCP6 fe80::1%eth0 2001:db8::2 1 2\r\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 -1 2\r\n',
    'PROXY TCP4 192.0.2.1\t192.0.2.2 1 2\r\n',
    'PROXY TCP4 192.0.2.1 192.0.2.2 1 2\0\r\n',
    'PROXY UNKNOWNX\r\n',
    'proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n',
  ];
  for (const line of bad) assertError(Buffer.from(line, 'latin1'), JSON.stringify(line));
  assertError(Buffer.from('PROXY UNKNOWN é\r\n', 'utf8'), 'non-ASCII');
});

test('v1: a line of 108 bytes or more without CR LF is too long', () => {
  assertError(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`), 'no CR LF');
  const r = feed([Buffer.from(`PROXY UNKNOWN ${'x'.repeat(107 - 15)}\r\n`)]);
  assert.deepEqual(r, { kind: 'error', reason: 'PROXY v1 line too long' });
  // 106 bytes and a CR: the LF would be byte 108.
  const cr = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(106 - 14)}\r`);
  assert.equal(cr.length, 107);
  assert.equal(feed([cr]).kind, 'error');
  assert.equal(feed([cr.subarray(0, 106)]).kind, 'need-more');
});

test('anything that is not a header is an error at its first wrong byte', () => {
  assert.equal(feed([Buffer.from('U')]).kind, 'error');
  assert.equal(feed([Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')]).kind, 'error');
  assert.equal(feed([Buffer.from('GET / HTTP/1.1\r\n')]).kind, 'error');
  assert.equal(feed([Buffer.from([0x16, 0x03, 0x01])]).kind, 'error');
  assert.equal(feed([Buffer.from('PROX')]).kind, 'need-more');
  assert.equal(feed([Buffer.from('PROXZ')]).kind, 'error');
  assert.equal(feed([PROXY_V2_SIGNATURE.subarray(0, 5)]).kind, 'need-more');
  assert.equal(feed([Buffer.concat([PROXY_V2_SIGNATURE.subarray(0, 5), Buffer.from('x')])]).kind, 'error');
  assert.equal(feed([Buffer.alloc(0)]).kind, 'need-more');
});

test('v2 malformed headers are errors', () => {
  const good = proxyV2(v4.src, v4.dst);
  const variant = (at: number, value: number) => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  assertError(variant(12, 0x11), 'version 1 in a v2 header');
  assertError(variant(12, 0x22), 'command 2');
  assertError(variant(13, 0x41), 'family 4');
  assertError(variant(13, 0x12), 'datagram');
  assertError(variant(13, 0x13), 'protocol 3');
  // Length shorter than the IPv4 addresses.
  const short = Buffer.from(good.subarray(0, 16 + 8));
  short.writeUInt16BE(8, 14);
  assertError(short, 'truncated IPv4');
  const v6short = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x21, 0x00, 12]), Buffer.alloc(12)]);
  assertError(v6short, 'truncated IPv6');
  const unixShort = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x31, 0x00, 12]), Buffer.alloc(12)]);
  assertError(unixShort, 'truncated UNIX');
});

test('v2: a declared length over the limit is refused before its bytes arrive', () => {
  const head = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
  assert.deepEqual(feed([head]), { kind: 'error', reason: 'PROXY v2 header too long' });
  const atLimit = proxyV2(v4.src, v4.dst, { tlvs: [{ type: 0x20, value: Buffer.alloc(2048 - 12 - 3) }] });
  assert.equal(feed([atLimit]).kind, 'header');
  const over = proxyV2(v4.src, v4.dst, { tlvs: [{ type: 0x20, value: Buffer.alloc(2048 - 12 - 2) }] });
  assert.equal(feed([over]).kind, 'error');
});

test('a truncated header stays need-more; the decoder then repeats its verdict', () => {
  for (const sample of [proxyV1(v4.src, v4.dst), proxyV2(v6.src, v6.dst)]) {
    for (let i = 0; i < sample.length; i++) assert.equal(feed([sample.subarray(0, i)]).kind, 'need-more', `${i} bytes`);
  }
  const d = new ProxyDecoder();
  const first = d.push(Buffer.concat([proxyV2(v4.src, v4.dst), PAYLOAD]));
  assert.equal(first.kind, 'header');
  assert.equal(d.push(Buffer.from('more')), first);
});
