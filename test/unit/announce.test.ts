import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassiveAnnouncer } from '../../src/server/data/announce.js';

test('PassiveAnnouncer: the longest matching network wins; others get passive_address, or none', () => {
  const a = new PassiveAnnouncer({ '10.0.0.0/8': '10.0.0.5', '10.1.0.0/16': '10.1.0.5', '192.168.1.7': '192.168.1.1', '0.0.0.0/0': '203.0.113.7' }, '198.51.100.1');
  assert.equal(a.addressFor('10.9.9.9'), '10.0.0.5');
  assert.equal(a.addressFor('10.1.2.3'), '10.1.0.5');
  assert.equal(a.addressFor('::ffff:10.1.2.3'), '10.1.0.5', 'IPv4-mapped clients match their IPv4 network');
  assert.equal(a.addressFor('192.168.1.7'), '192.168.1.1');
  assert.equal(a.addressFor('192.168.1.8'), '203.0.113.7', '0.0.0.0/0 catches everyone else');
  assert.equal(a.addressFor('2001:db8::1'), '198.51.100.1', 'IPv6 clients get passive_address');
  const b = new PassiveAnnouncer({ '172.16.0.0/12': '172.16.0.1' }, undefined);
  assert.equal(b.addressFor('172.31.255.255'), '172.16.0.1');
  assert.equal(b.addressFor('172.32.0.0'), undefined, 'outside: the address the client connected to');
  assert.equal(new PassiveAnnouncer({}, '198.51.100.1').addressFor('10.0.0.1'), '198.51.100.1');
});
