/** EPRT argument parsing (RFC 2428 section 2): each check, and which refusal wins when several apply. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEprt, type EprtResult } from '../../src/protocol/address.js';

const SYNTAX: EprtResult = { ok: false, reason: 'syntax' };
const PROTOCOL: EprtResult = { ok: false, reason: 'protocol' };
const v4 = (port: number): EprtResult => ({ ok: true, family: 1, host: '1.2.3.4', port });

test('EPRT: the delimiter is any printable ASCII character but space', () => {
  assert.deepEqual(parseEprt(''), SYNTAX);
  assert.deepEqual(parseEprt('!1!1.2.3.4!21!'), v4(21));
  assert.deepEqual(parseEprt('~1~1.2.3.4~21~'), v4(21));
  assert.deepEqual(parseEprt('x1x1.2.3.4x21x'), v4(21));
  assert.deepEqual(parseEprt(' 1 1.2.3.4 21 '), SYNTAX);
  assert.deepEqual(parseEprt('\t1\t1.2.3.4\t21\t'), SYNTAX);
  assert.deepEqual(parseEprt('\x7f1\x7f1.2.3.4\x7f21\x7f'), SYNTAX);
  assert.deepEqual(parseEprt('\u00e91\u00e91.2.3.4\u00e921\u00e9'), SYNTAX);
});

test('EPRT: exactly four fields between delimiters, nothing before or after', () => {
  assert.deepEqual(parseEprt('|'), SYNTAX);
  assert.deepEqual(parseEprt('|1|1.2.3.4|21'), SYNTAX);
  assert.deepEqual(parseEprt('|1|1.2.3.4|21||'), SYNTAX);
  assert.deepEqual(parseEprt('|1|1.2.3.4|21|x'), SYNTAX);
  assert.deepEqual(parseEprt('.1.1.2.3.4.21.'), SYNTAX, 'the delimiter may not occur in the address');
  // The shape is checked before the protocol.
  assert.deepEqual(parseEprt('|3|x|1'), SYNTAX);
});

test('EPRT: the protocol is 1 or 2, checked before the port and the address', () => {
  for (const proto of ['', '0', '3', '01', ' 1', '1 ', 'a']) {
    assert.deepEqual(parseEprt(`|${proto}|1.2.3.4|21|`), PROTOCOL, proto);
  }
  assert.deepEqual(parseEprt('|3|garbage|port|'), PROTOCOL);
  assert.deepEqual(parseEprt('|2|::1|21|'), { ok: true, family: 2, host: '::1', port: 21 });
});

test('EPRT: the port is 1 to 65535 in one to five digits', () => {
  assert.deepEqual(parseEprt('|1|1.2.3.4|1|'), v4(1));
  assert.deepEqual(parseEprt('|1|1.2.3.4|65535|'), v4(65535));
  assert.deepEqual(parseEprt('|1|1.2.3.4|00021|'), v4(21));
  for (const port of ['', '0', '00000', '65536', '99999', '000021', '+21', '-1', ' 21', '21 ', '2e3', '0x15']) {
    assert.deepEqual(parseEprt(`|1|1.2.3.4|${port}|`), SYNTAX, port);
  }
});

test('EPRT: the address must be of the family the protocol names', () => {
  assert.deepEqual(parseEprt('|1||21|'), SYNTAX);
  assert.deepEqual(parseEprt('|2||21|'), SYNTAX);
  assert.deepEqual(parseEprt('|1|::1|21|'), SYNTAX);
  assert.deepEqual(parseEprt('|2|1.2.3.4|21|'), SYNTAX);
  assert.deepEqual(parseEprt('|1|1.2.3.256|21|'), SYNTAX);
  assert.deepEqual(parseEprt('|1|localhost|21|'), SYNTAX);
  assert.deepEqual(parseEprt('|1|1.2.3.4|0|'), SYNTAX, 'a bad port with a good address');
  assert.deepEqual(parseEprt('|1|::1|0|'), SYNTAX, 'a bad port and a bad address');
});
