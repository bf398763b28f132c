/**
 * The control-line decoder and Telnet (issue 10, item 2): the bytes a BSD
 * client's abort leaves on a Linux server (IAC IP, a lone DM, ABOR), the
 * other Telnet sequences, and UTF-8 text that must come through untouched.
 * Every input is decoded whole, byte by byte, split at every boundary and
 * at every pair of boundaries: the events must not depend on the chunking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineDecoder, type LineEvent } from '../../src/protocol/lineDecoder.js';
import { DM, IAC, IP } from '../../src/protocol/telnet.js';

type Bytes = Buffer | number[] | string;

/** Concatenates strings (UTF-8) and byte lists. */
function bytes(...parts: Bytes[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
}

function decode(chunks: Uint8Array[], max = 4096, flood?: number): string[] {
  const d = new LineDecoder(max, flood);
  return chunks.flatMap((c) => d.push(c)).map(show);
}

const show = (e: LineEvent) => (e.kind === 'line' ? e.line : `<${e.kind}>`);

/** Asserts that `input` decodes to `expected` however it is cut into chunks. */
function assertEverySplit(input: Buffer, expected: string[], max = 4096, flood?: number): void {
  assert.deepEqual(decode([input], max, flood), expected, 'whole');
  assert.deepEqual(
    decode(
      [...input].map((b) => Buffer.from([b])),
      max,
      flood,
    ),
    expected,
    'byte by byte',
  );
  for (let i = 0; i <= input.length; i++) {
    assert.deepEqual(decode([input.subarray(0, i), input.subarray(i)], max, flood), expected, `split at ${i}`);
    for (let j = i; j <= input.length; j++) {
      assert.deepEqual(decode([input.subarray(0, i), input.subarray(i, j), input.subarray(j)], max, flood), expected, `split at ${i} and ${j}`);
    }
  }
}

test('telnet: the inetutils abort as a Linux server reads it (IAC IP, lone DM, ABOR) is ABOR', () => {
  // send("IAC IP IAC", MSG_OOB) + "DM ABOR\r\n", the urgent IAC taken out of the stream.
  assertEverySplit(bytes([IAC, IP, DM], 'ABOR\r\n'), ['ABOR']);
  // Between other commands, and with STAT.
  assertEverySplit(bytes('NOOP\r\n', [IAC, IP, DM], 'ABOR\r\n', 'PWD\r\n'), ['NOOP', 'ABOR', 'PWD']);
  assertEverySplit(bytes([IAC, IP, DM], 'STAT\r\n'), ['STAT']);
  assertEverySplit(bytes([IAC, IP, DM], 'abor\n'), ['abor']);
});

test('telnet: the other ways an abort arrives are ABOR too', () => {
  // Urgent data read inline (SO_OOBINLINE, other systems): IAC IP IAC DM ABOR.
  assertEverySplit(bytes([IAC, IP, IAC, DM], 'ABOR\r\n'), ['ABOR']);
  // 4.3BSD style, "IAC DM" sent as urgent data and the DM taken out: IAC IP IAC ABOR.
  assertEverySplit(bytes([IAC, IP, IAC], 'ABOR\r\n'), ['ABOR']);
  // Plain ABOR, and IAC IP alone before it.
  assertEverySplit(bytes('ABOR\r\n'), ['ABOR']);
  assertEverySplit(bytes([IAC, IP], 'ABOR\r\n'), ['ABOR']);
});

test('telnet: IAC IAC is a literal 0xff; commands, options and subnegotiations are dropped', () => {
  const latin1 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');
  assertEverySplit(bytes('RETR a', [IAC, IAC], 'b\r\n'), [latin1('RETR a\xffb')]);
  assertEverySplit(bytes([IAC, IAC], 'X\r\n'), [latin1('\xffX')]);
  // IAC AYT, NOP, BRK, AO, EC, EL, GA inside and around a line.
  assertEverySplit(bytes([IAC, 0xf6], 'NO', [IAC, 0xf1], 'OP', [IAC, 0xf3, IAC, 0xf5, IAC, 0xf7, IAC, 0xf8, IAC, 0xf9], '\r\n'), ['NOOP']);
  // WILL/WONT/DO/DONT with their option byte, even an option byte that looks like text or IAC.
  assertEverySplit(bytes([IAC, 0xfb, 0x01, IAC, 0xfc, 0x41, IAC, 0xfd, IAC, IAC, 0xfe, 0x03], 'NOOP\r\n'), ['NOOP']);
  // A subnegotiation, with an escaped IAC inside, is dropped whole.
  assertEverySplit(bytes('SY', [IAC, 0xfa, 0x18, 0x00, 0x41, IAC, IAC, 0x42, IAC, 0xf0], 'ST\r\n'), ['SYST']);
});

test('telnet: the state ends with the line; a CR LF inside a Telnet sequence still ends it', () => {
  // An IAC at the end of a line does not eat the next line's first byte.
  assertEverySplit(bytes('NOOP', [IAC], '\r\nPWD\r\n'), ['NOOP', 'PWD']);
  assertEverySplit(bytes('NOOP', [IAC, 0xfb], '\nPWD\r\n'), ['NOOP', 'PWD']);
  // An open subnegotiation too.
  assertEverySplit(bytes([IAC, 0xfa, 0x18], '\nPWD\r\n'), ['', 'PWD']);
  // A Telnet command on one line does not make a DM on the next one a Data Mark.
  assertEverySplit(bytes([IAC, IP], '\r\n', [0xf2, 0x80, 0x80, 0x80], '\r\n'), ['', '\u{80000}']);
});

test('telnet: UTF-8 text is never touched, 0xf2 and 0xf4 lead bytes included', () => {
  // U+80000 is F2 80 80 80 (a DM byte first), U+100000 is F4 80 80 80 (an IP byte first).
  const names = ['\u{80000}.txt', 'a\u{80000}b', '\u{100000}', 'fïlé ünïcode 😀 日本語', '\u{8ffff}\u{80000}'];
  for (const name of names) {
    assertEverySplit(bytes(`RETR ${name}\r\n`), [`RETR ${name}`]);
    // After an abort on the line before, and after Telnet commands on the same line.
    assertEverySplit(bytes([IAC, IP, DM], 'ABOR\r\n', `STOR ${name}\r\n`), ['ABOR', `STOR ${name}`]);
    assertEverySplit(bytes([IAC, IP, DM], `CWD ${name}\r\n`), [`CWD ${name}`]);
  }
  // Without a Telnet command before it, a leading 0xf2 is text (a bad command, answered 500).
  assertEverySplit(bytes([0xf2, 0x80, 0x80, 0x80], 'X\r\n'), ['\u{80000}X']);
  assertEverySplit(bytes([DM], 'ABOR\r\n'), ['\ufffdABOR']);
  // Only the one Data Mark before the line's text goes: a DM after text stays.
  assertEverySplit(bytes('NO', [IAC, IP, DM], 'OP\r\n'), ['NO\ufffdOP']);
  assertEverySplit(bytes([IAC, IP, DM, DM], 'ABOR\r\n'), ['\ufffdABOR']);
});

test('line decoder: chunking never changes the events (random bytes, Telnet-heavy)', () => {
  const byte = fc.oneof(fc.constantFrom(IAC, IP, DM, 0xfa, 0xf0, 0xfb, 0x0a, 0x0d, 0x41, 0x80), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 120 }), fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 6 }), (raw, cuts) => {
      const input = Buffer.from(raw);
      const points = [...new Set(cuts.map((c) => Math.min(c, input.length)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let at = 0;
      for (const p of [...points, input.length]) {
        chunks.push(input.subarray(at, p));
        at = p;
      }
      // Small limits, so too-long lines and floods happen too.
      assert.deepEqual(decode(chunks, 8, 20), decode([input], 8, 20));
    }),
    { numRuns: 2000, seed: 10 },
  );
});
