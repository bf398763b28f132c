import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDecoder, type LineEvent } from '../../src/protocol/lineDecoder.js';
import { parseCommand, redactCommand } from '../../src/protocol/command.js';
import { formatReply, quotePath, reply } from '../../src/protocol/reply.js';
import { formatEpsvReply, formatEprt, formatPasvReply, normalizeAddress, parseEprt, parseEpsvReply, parseHostPort, parsePasvReply } from '../../src/protocol/address.js';
import { AsciiDecoder, AsciiEncoder } from '../../src/protocol/typeA.js';

function decodeAll(chunks: Buffer[], max = 4096): LineEvent[] {
  const d = new LineDecoder(max);
  return chunks.flatMap((c) => d.push(c));
}

const lines = (evs: LineEvent[]) => evs.map((e) => (e.kind === 'line' ? e.line : `<${e.kind}>`));

test('line decoder: whole, byte by byte, and split at every boundary give the same lines', () => {
  const input = Buffer.from('USER anonymous\r\nPASS a@b\r\nCWD dir with spaces\r\nRETR fïlé ünïcode.txt\nNOOP\r\n');
  const expected = ['USER anonymous', 'PASS a@b', 'CWD dir with spaces', 'RETR fïlé ünïcode.txt', 'NOOP'];
  assert.deepEqual(lines(decodeAll([input])), expected);
  assert.deepEqual(lines(decodeAll([...input].map((b) => Buffer.from([b])))), expected);
  for (let i = 0; i <= input.length; i++) {
    assert.deepEqual(lines(decodeAll([input.subarray(0, i), input.subarray(i)])), expected, `split at ${i}`);
  }
});

test('line decoder: keeps an incomplete line until its end arrives', () => {
  const d = new LineDecoder();
  assert.deepEqual(d.push(Buffer.from('NO')), []);
  assert.equal(d.pending, 2);
  assert.deepEqual(lines(d.push(Buffer.from('OP\r\n'))), ['NOOP']);
});

test('line decoder: an overlong line is reported once, at its end; a flood once, at once', () => {
  const max = 16;
  const long = Buffer.from('X'.repeat(40) + '\r\nNOOP\r\n');
  assert.deepEqual(lines(decodeAll([long], max)), ['<too-long>', 'NOOP']);
  const justOver = Buffer.from('Y'.repeat(20) + '\r\nNOOP\r\n');
  assert.deepEqual(lines(decodeAll([justOver], max)), ['<too-long>', 'NOOP']);
  const exact = Buffer.from('Z'.repeat(16) + '\r\n');
  assert.deepEqual(lines(decodeAll([exact], max)), ['Z'.repeat(16)]);
  // The flood cap defaults to 64 lines' worth: past it, one flood and nothing at the line's end.
  const flood = Buffer.from('F'.repeat(64 * max + 2) + '\r\nNOOP\r\n');
  assert.deepEqual(lines(decodeAll([flood], max)), ['<flood>', 'NOOP']);
});

test('line decoder: strips Telnet IAC sequences, keeps IAC IAC as 0xff', () => {
  // IAC IP IAC DM ABOR (as sent in band), and IAC IP IAC <DM sent out of band> ABOR
  const inBand = Buffer.from([0xff, 0xf4, 0xff, 0xf2, ...Buffer.from('ABOR\r\n')]);
  assert.deepEqual(lines(decodeAll([inBand])), ['ABOR']);
  const oob = Buffer.from([0xff, 0xf4, 0xff, ...Buffer.from('ABOR\r\n')]);
  assert.deepEqual(lines(decodeAll([oob])), ['ABOR']);
  const option = Buffer.from([0xff, 0xfb, 0x01, ...Buffer.from('NOOP\r\n')]);
  assert.deepEqual(lines(decodeAll([option])), ['NOOP']);
  for (let i = 0; i <= inBand.length; i++) {
    assert.deepEqual(lines(decodeAll([inBand.subarray(0, i), inBand.subarray(i)])), ['ABOR']);
  }
});

test('command parsing keeps the argument byte for byte', () => {
  assert.deepEqual(parseCommand('retr  two spaces.txt '), { verb: 'RETR', arg: ' two spaces.txt ' });
  assert.deepEqual(parseCommand('NOOP'), { verb: 'NOOP', arg: '' });
  assert.deepEqual(parseCommand('CWD "quoted"'), { verb: 'CWD', arg: '"quoted"' });
  assert.equal(parseCommand(''), null);
  assert.equal(parseCommand('12345 x'), null);
  assert.equal(parseCommand('TOOLONG x'), null);
  assert.equal(parseCommand(' USER x'), null);
  assert.equal(redactCommand('PASS', 'hunter2'), 'PASS ****');
  assert.equal(redactCommand('RETR', 'a'), 'RETR a');
});

test('reply formatting: single line, multi-line, and no framing injection', () => {
  assert.equal(formatReply(reply(200, 'OK')), '200 OK\r\n');
  assert.equal(formatReply(reply(211, ['Features:', 'SIZE', 'End'])), '211-Features:\r\n SIZE\r\n211 End\r\n');
  assert.equal(formatReply(reply(230, 'line one\nline two')), '230-line one\r\n230 line two\r\n');
  // A continuation line that looks like an end line is indented, so it cannot end the reply.
  assert.equal(formatReply(reply(250, ['a', '250 fake', 'b'])), '250-a\r\n 250 fake\r\n250 b\r\n');
  assert.equal(formatReply(reply(550, 'bad\rname')), '550 bad name\r\n');
  assert.equal(quotePath('/a "b"'), '"/a ""b"""');
});

test('PORT / PASV / EPRT / EPSV encodings', () => {
  assert.deepEqual(parseHostPort('127,0,0,1,195,80'), { host: '127.0.0.1', port: 50000 });
  assert.equal(parseHostPort('127,0,0,1,256,1'), null);
  assert.equal(parseHostPort('127,0,0,1,0,0'), null);
  assert.equal(parseHostPort('127,0,0,1,1'), null);
  assert.equal(parseHostPort('a,b,c,d,e,f'), null);
  assert.equal(formatPasvReply('10.1.2.3', 50001), 'Entering Passive Mode (10,1,2,3,195,81).');
  assert.deepEqual(parsePasvReply('Entering Passive Mode (10,1,2,3,195,81).'), { host: '10.1.2.3', port: 50001 });
  assert.equal(formatEpsvReply(6446), 'Entering Extended Passive Mode (|||6446|)');
  assert.equal(parseEpsvReply('Entering Extended Passive Mode (|||6446|)'), 6446);
  assert.equal(parseEpsvReply('Entering Extended Passive Mode (!!!6446!)'), 6446);
  assert.equal(parseEpsvReply('garbage'), null);
  assert.deepEqual(parseEprt('|1|132.235.1.2|6275|'), { ok: true, family: 1, host: '132.235.1.2', port: 6275 });
  assert.deepEqual(parseEprt('|2|::1|5282|'), { ok: true, family: 2, host: '::1', port: 5282 });
  assert.deepEqual(parseEprt('!2!1080::8:800:200C:417A!5282!'), { ok: true, family: 2, host: '1080::8:800:200C:417A', port: 5282 });
  assert.deepEqual(parseEprt('|3|x|1|'), { ok: false, reason: 'protocol' });
  assert.deepEqual(parseEprt('|1|::1|1|'), { ok: false, reason: 'syntax' });
  assert.deepEqual(parseEprt('|1|1.2.3.4|70000|'), { ok: false, reason: 'syntax' });
  assert.deepEqual(parseEprt('|1|1.2.3.4|'), { ok: false, reason: 'syntax' });
  assert.equal(formatEprt('::1', 5), '|2|::1|5|');
  assert.equal(formatEprt('127.0.0.1', 5), '|1|127.0.0.1|5|');
  assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeAddress('::1'), '::1');
});

function encodeChunks(chunks: Buffer[]): string {
  const e = new AsciiEncoder();
  return Buffer.concat(chunks.map((c) => e.encode(c))).toString('latin1');
}

function decodeChunks(chunks: Buffer[]): string {
  const d = new AsciiDecoder();
  return Buffer.concat([...chunks.map((c) => d.decode(c)), d.end()]).toString('latin1');
}

test('TYPE A conversion across every chunk boundary, both directions', () => {
  const disk = Buffer.from('line1\nline2\r\nline3\n\nend\rx\r');
  const wire = 'line1\r\nline2\r\nline3\r\n\r\nend\rx\r';
  const back = 'line1\nline2\nline3\n\nend\rx\r';
  for (let i = 0; i <= disk.length; i++) {
    assert.equal(encodeChunks([disk.subarray(0, i), disk.subarray(i)]), wire, `encode split ${i}`);
  }
  assert.equal(encodeChunks([...disk].map((b) => Buffer.from([b]))), wire);
  const w = Buffer.from(wire, 'latin1');
  for (let i = 0; i <= w.length; i++) {
    for (const j of [i, Math.min(w.length, i + 1)]) {
      assert.equal(decodeChunks([w.subarray(0, i), w.subarray(i, j), w.subarray(j)]), back, `decode split ${i},${j}`);
    }
  }
  assert.equal(decodeChunks([...w].map((b) => Buffer.from([b]))), back);
  assert.equal(decodeChunks([Buffer.from('a\r'), Buffer.alloc(0), Buffer.from('\nb')]), 'a\nb');
});
