/**
 * The control-line decoder's limits (issue 10, item 3): one event per
 * line, never two. A line over `maxLength` is skipped to its end and
 * reported once, by `too-long`, when its line feed comes; a line that runs
 * on past `floodLength` without a line feed is reported once, by `flood`,
 * at once, and its end reports nothing more. Sizes are the server's
 * (4 KiB lines, 256 KiB flood cap) and the lines come in many chunkings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDecoder, type LineEvent } from '../../src/protocol/lineDecoder.js';

const MAX = 4096;
const FLOOD = 256 * 1024;
const KiB = 1024;

const show = (e: LineEvent) => (e.kind === 'line' ? (e.line.length > 20 ? `line(${e.line.length})` : e.line) : `<${e.kind}>`);

/** Feeds `input` in chunks of `size` bytes; returns the events and the most text the decoder held. */
function feed(d: LineDecoder, input: Buffer, size: number): { events: string[]; held: number } {
  const events: string[] = [];
  let held = 0;
  for (let i = 0; i < input.length; i += size) {
    events.push(...d.push(input.subarray(i, i + size)).map(show));
    held = Math.max(held, d.pending);
  }
  return { events, held };
}

/** Chunk sizes to try for an input of `n` bytes (byte by byte only while it stays quick). */
function sizes(n: number): number[] {
  return [...(n <= 64 * KiB ? [1] : []), 7, 1000, 1460, 4096, 4097, 65536, n];
}

test('line limits: a line of exactly 4 KiB is a line; 4 KiB + 1, 8 KiB, 64 KiB are one too-long each, at their end', () => {
  for (const crlf of ['\r\n', '\n']) {
    const exact = Buffer.from('X'.repeat(MAX) + crlf + 'NOOP\r\n');
    for (const size of sizes(exact.length)) {
      assert.deepEqual(feed(new LineDecoder(MAX, FLOOD), exact, size).events, [`line(${MAX})`, 'NOOP']);
    }
    for (const length of [MAX + 1, 8 * KiB, 64 * KiB, FLOOD]) {
      const input = Buffer.from('STOR ' + 'y'.repeat(length - 5) + crlf + 'NOOP\r\n');
      for (const size of sizes(input.length)) {
        const { events, held } = feed(new LineDecoder(MAX, FLOOD), input, size);
        assert.deepEqual(events, ['<too-long>', 'NOOP'], `${length} bytes + ${JSON.stringify(crlf)} in chunks of ${size}`);
        assert.ok(held <= MAX + 1, `held ${held} bytes`);
      }
    }
  }
});

test('line limits: a too-long line without its end reports nothing until the end comes, and is not kept', () => {
  for (const length of [MAX + 1, 8 * KiB, 64 * KiB, FLOOD]) {
    for (const size of sizes(length)) {
      const d = new LineDecoder(MAX, FLOOD);
      const { events, held } = feed(d, Buffer.from('Z'.repeat(length)), size);
      assert.deepEqual(events, [], `${length} bytes in chunks of ${size}`);
      assert.ok(held <= MAX + 1, `held ${held} bytes`);
      // 4 KiB + 1 may still be 4 KiB and the CR of its CR LF; anything longer is dropped already.
      assert.equal(d.pending, length === MAX + 1 ? MAX + 1 : 0);
      // The end comes later, in another chunk: one too-long, and the decoder goes on.
      assert.deepEqual(d.push(Buffer.from('\r\nNOOP\r\n')).map(show), ['<too-long>', 'NOOP']);
    }
  }
});

test('line limits: past 256 KiB without a line end it is one flood, whatever follows; 1 MiB with or without CR LF', () => {
  for (const end of ['\r\n', '\n', '']) {
    const input = Buffer.from('A'.repeat(1024 * KiB) + end);
    for (const size of sizes(input.length)) {
      const d = new LineDecoder(MAX, FLOOD);
      const { events, held } = feed(d, input, size);
      assert.deepEqual(events, ['<flood>'], `1 MiB + ${JSON.stringify(end)} in chunks of ${size}`);
      assert.ok(held <= MAX + 1, `held ${held} bytes`);
      // A caller that read on anyway: the flooded line ends without a second event.
      const rest = d.push(Buffer.from(end === '' ? 'B\r\nNOOP\r\n' : 'NOOP\r\n')).map(show);
      assert.deepEqual(rest, ['NOOP']);
    }
  }
});

test('line limits: the flood cap is exact (a CR more allowed), and counts Telnet bytes too', () => {
  // FLOOD bytes then CR LF: a line too long, not a flood.
  assert.deepEqual(feed(new LineDecoder(MAX, FLOOD), Buffer.from('a'.repeat(FLOOD) + '\r\n'), 65536).events, ['<too-long>']);
  // One byte more before the CR is a flood, seen at the CR, before the LF.
  assert.deepEqual(feed(new LineDecoder(MAX, FLOOD), Buffer.from('a'.repeat(FLOOD + 1) + '\r'), 65536).events, ['<flood>']);
  assert.deepEqual(feed(new LineDecoder(MAX, FLOOD), Buffer.from('a'.repeat(FLOOD + 2)), 65536).events, ['<flood>']);
  // Endless Telnet (IAC NOP) with no text at all is a flood too.
  const nops = Buffer.alloc(FLOOD + 2);
  for (let i = 0; i < nops.length; i += 2) nops.set([0xff, 0xf1], i);
  assert.deepEqual(feed(new LineDecoder(MAX, FLOOD), nops, 4096).events, ['<flood>']);
});

test('line limits: many lines in one chunk, long and short mixed, each gets its one event in order', () => {
  const input = Buffer.from(['USER anonymous', 'x'.repeat(MAX + 1), 'PASS a@b', 'y'.repeat(10 * KiB), 'z'.repeat(MAX), 'NOOP', ''].join('\r\n'));
  for (const size of [1, 3, 100, 4096, input.length]) {
    assert.deepEqual(feed(new LineDecoder(MAX, FLOOD), input, size).events, ['USER anonymous', '<too-long>', 'PASS a@b', '<too-long>', `line(${MAX})`, 'NOOP']);
  }
});

test('line limits: the defaults are 4 KiB lines and a flood cap 64 times that', () => {
  const d = new LineDecoder();
  assert.deepEqual(d.push(Buffer.from('q'.repeat(4097) + '\r\n')).map(show), ['<too-long>']);
  assert.deepEqual(d.push(Buffer.from('q'.repeat(64 * 4096 + 2))).map(show), ['<flood>']);
  // A flood cap below the line limit is raised to it.
  const small = new LineDecoder(16, 4);
  assert.deepEqual(small.push(Buffer.from('r'.repeat(16) + '\r\n')).map(show), ['r'.repeat(16)]);
});
