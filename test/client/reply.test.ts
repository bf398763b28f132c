import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyParser, ReplyParseError, type FtpReply } from '../../src/client/reply.js';

const INPUT =
  '220 Welcome\r\n' +
  '211-Features:\r\n MLST type*;size*;\r\n UTF8\r\n211 End\r\n' +
  '230-Line one\r\n230-Line two\r\nplain middle line\r\n230 Done\r\n' +
  '150 Opening\n' +
  '226-Transfer complete\r\n 226 is not the end\r\n226 \r\n' +
  '200\r\n';

const EXPECTED: Array<Pick<FtpReply, 'code' | 'message'>> = [
  { code: 220, message: 'Welcome' },
  { code: 211, message: 'Features:\nMLST type*;size*;\nUTF8\nEnd' },
  { code: 230, message: 'Line one\nLine two\nplain middle line\nDone' },
  { code: 150, message: 'Opening' },
  { code: 226, message: 'Transfer complete\n226 is not the end\n' },
  { code: 200, message: '' },
];

function parseChunks(chunks: string[]): Array<Pick<FtpReply, 'code' | 'message'>> {
  const p = new ReplyParser();
  const out: FtpReply[] = [];
  for (const c of chunks) out.push(...p.push(c));
  assert.equal(p.hasPartial, false);
  return out.map(({ code, message }) => ({ code, message }));
}

test('reply parser: whole input', () => {
  assert.deepEqual(parseChunks([INPUT]), EXPECTED);
});

test('reply parser: byte by byte', () => {
  assert.deepEqual(parseChunks([...INPUT]), EXPECTED);
});

test('reply parser: split at every boundary', () => {
  for (let i = 0; i <= INPUT.length; i++) {
    assert.deepEqual(parseChunks([INPUT.slice(0, i), INPUT.slice(i)]), EXPECTED, `split at ${i}`);
  }
});

test('reply parser: keeps raw lines', () => {
  const [r] = new ReplyParser().push('211-Features:\r\n UTF8\r\n211 End\r\n');
  assert.deepEqual(r?.lines, ['211-Features:', ' UTF8', '211 End']);
});

test('reply parser: a partial reply is not returned until complete', () => {
  const p = new ReplyParser();
  assert.deepEqual(p.push('230-a\r\n230 b'), []);
  assert.equal(p.hasPartial, true);
  assert.equal(p.push('\r\n')[0]?.code, 230);
});

test('reply parser: rejects garbage and overlong lines', () => {
  assert.throws(() => new ReplyParser().push('hello there\r\n'), ReplyParseError);
  assert.throws(() => new ReplyParser().push('22x oops\r\n'), ReplyParseError);
  assert.throws(() => new ReplyParser().push('2200 oops\r\n'), ReplyParseError);
  assert.throws(() => new ReplyParser({ maxLineLength: 10 }).push('200 ' + 'x'.repeat(20)), ReplyParseError);
  assert.throws(() => new ReplyParser({ maxLineLength: 10 }).push('200 ' + 'x'.repeat(20) + '\r\n'), ReplyParseError);
  assert.throws(() => new ReplyParser({ maxLines: 3 }).push('211-a\r\nb\r\nc\r\nd\r\n'), ReplyParseError);
});

test('reply parser: a different code inside a multi-line reply does not end it', () => {
  const out = new ReplyParser().push('250-start\r\n220 inner\r\n250 end\r\n');
  assert.equal(out.length, 1);
  assert.equal(out[0]?.message, 'start\n220 inner\nend');
});
