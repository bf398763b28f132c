/** The pure IP address checks of src/protocol/ip.ts: a table, then Node's own checks as an oracle. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { isIPv4, isIPv6 } from '../../src/protocol/ip.js';

const V4: Array<[string, boolean]> = [
  ['0.0.0.0', true],
  ['127.0.0.1', true],
  ['255.255.255.255', true],
  ['192.168.1.10', true],
  ['1.2.3.256', false],
  ['256.1.1.1', false],
  ['1.2.3', false],
  ['1.2.3.4.5', false],
  ['1..3.4', false],
  ['.1.2.3', false],
  ['1.2.3.4.', false],
  ['01.2.3.4', false], // leading zero: octal to inet_aton
  ['1.2.3.004', false],
  ['0x7f.0.0.1', false],
  ['2130706433', false],
  [' 1.2.3.4', false],
  ['1.2.3.4 ', false],
  ['1.2.3.4\n', false],
  ['+1.2.3.4', false],
  ['1.2.3.-4', false],
  ['1.2.3.1e1', false],
  ['١.٢.٣.٤', false], // Arabic-Indic digits are not ASCII digits
  ['', false],
  ['::1', false],
  ['localhost', false],
];

const V6: Array<[string, boolean]> = [
  ['::', true],
  ['::1', true],
  ['1::', true],
  ['fe80::1', true],
  ['FE80::ABCD', true],
  ['2001:db8::8:800:200c:417a', true],
  ['1080::8:800:200C:417A', true],
  ['2001:0db8:0000:0000:0000:ff00:0042:8329', true],
  ['1:2:3:4:5:6:7:8', true],
  ['1:2:3:4:5:6:7::', true],
  ['::2:3:4:5:6:7:8', true],
  ['1::8', true],
  ['::ffff:1.2.3.4', true], // IPv4-mapped, as dual-stack sockets report
  ['::FFFF:127.0.0.1', true],
  ['::1.2.3.4', true],
  ['1:2:3:4:5:6:1.2.3.4', true],
  ['1:2:3:4:5::1.2.3.4', true],
  ['fe80::1%eth0', true], // zone ids, as Node reports link-local peers
  ['fe80::1%2', true],
  ['fe80::a:b%en0.100', true],
  ['fe80::1%wlp3s0_x', true],
  ['::ffff:1.2.3.4%lo', true],
  ['', false],
  [':', false],
  [':::', false],
  ['1:2:3:4:5:6:7:8:9', false],
  ['1:2:3:4:5:6:7', false],
  ['1:2:3:4:5:6:7:8::', false],
  ['::1:2:3:4:5:6:7:8', false],
  ['1::2::3', false],
  [':1:2:3:4:5:6:7', false],
  ['1:2:3:4:5:6:7:', false],
  ['12345::1', false],
  ['g::1', false],
  ['::ffff:1.2.3', false],
  ['::ffff:1.2.3.256', false],
  ['::ffff:01.2.3.4', false],
  ['1.2.3.4::', false],
  ['::1.2.3.4:1', false],
  ['1:2:3:4:5:6:7:1.2.3.4', false],
  ['1:2:3:4:5:6:7::1.2.3.4', false],
  ['[::1]', false],
  [' ::1', false],
  ['::1 ', false],
  ['fe80::1%', false],
  ['fe80::1%eth 0', false],
  ['fe80::1%eth0%1', false],
  ['%eth0', false],
  ['1.2.3.4', false],
  ['localhost', false],
];

test('isIPv4: strict dotted quads only', () => {
  for (const [text, want] of V4) assert.equal(isIPv4(text), want, JSON.stringify(text));
});

test('isIPv6: every RFC 4291 text form, IPv4 tails and zone ids', () => {
  for (const [text, want] of V6) assert.equal(isIPv6(text), want, JSON.stringify(text));
});

test('the table agrees with Node where Node has an opinion', () => {
  for (const [text, want] of V4) assert.equal(net.isIPv4(text), want, `node isIPv4 ${JSON.stringify(text)}`);
  // Node accepts ':' in zone ids and refuses '_': zone ids aside, the tables match.
  for (const [text, want] of V6) {
    if (text.includes('%')) continue;
    assert.equal(net.isIPv6(text), want, `node isIPv6 ${JSON.stringify(text)}`);
  }
});

test('generated addresses: same answer as node:net', () => {
  fc.assert(
    fc.property(fc.ipV4(), (a) => isIPv4(a) && !isIPv6(a)),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.ipV6(), (a) => isIPv6(a) && !isIPv4(a)),
    { numRuns: 2000 },
  );
  // ipV4Extended produces octal and hex forms too: both must refuse exactly the same ones.
  fc.assert(
    fc.property(fc.ipV4Extended(), (a) => isIPv4(a) === net.isIPv4(a)),
    { numRuns: 2000 },
  );
  const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.%xg '.split(''));
  const noise = fc.string({ unit: chars, maxLength: 45 });
  fc.assert(
    fc.property(noise, (s) => isIPv4(s) === net.isIPv4(s) && (s.includes('%') || isIPv6(s) === net.isIPv6(s))),
    { numRuns: 20000 },
  );
  // Mutations of valid addresses: a character dropped, doubled or replaced.
  const mutated = fc.tuple(fc.oneof(fc.ipV6(), fc.ipV4()), fc.nat(), fc.nat(), chars).map(([a, i, op, c]) => {
    const at = i % (a.length + 1);
    if (op % 3 === 0) return a.slice(0, at) + a.slice(at + 1);
    if (op % 3 === 1) return a.slice(0, at) + a.charAt(at) + a.slice(at);
    return a.slice(0, at) + c + a.slice(at + 1);
  });
  fc.assert(
    fc.property(mutated, (s) => isIPv4(s) === net.isIPv4(s) && (s.includes('%') || isIPv6(s) === net.isIPv6(s))),
    { numRuns: 20000 },
  );
});

test('socket addresses Node reports are recognised', async () => {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    assert.ok(isIPv6((server.address() as net.AddressInfo).address));
    for (const host of ['127.0.0.1', '::1']) {
      const s = net.connect({ host, port });
      await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject)).catch(() => undefined);
      for (const a of [s.localAddress, s.remoteAddress]) {
        if (a === undefined) continue;
        assert.equal(isIPv4(a) || isIPv6(a), true, a);
        assert.equal(isIPv6(a), net.isIPv6(a), a);
      }
      s.destroy();
    }
  } finally {
    server.close();
  }
});
