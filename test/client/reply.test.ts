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

/** Parses whole input and returns each reply's code, message and raw lines. */
function replies(input: string, options?: { maxLines?: number }): Array<[number, string, string[]]> {
  return new ReplyParser(options).push(input).map((r) => [r.code, r.message, r.lines]);
}

test('reply parser: single-line replies: code alone, code and space, code and text', () => {
  assert.deepEqual(replies('200\r\n200 \r\n200 ok\r\n200  two spaces\r\n'), [
    [200, '', ['200']],
    [200, '', ['200 ']],
    [200, 'ok', ['200 ok']],
    [200, ' two spaces', ['200  two spaces']],
  ]);
  assert.deepEqual(replies('200-\r\n200\r\n'), [[200, '\n', ['200-', '200']]]);
});

test('reply parser: what ends a multi-line reply', () => {
  // The same code with anything but `-` after it ends it, even no space.
  assert.deepEqual(replies('211-a\r\n211\r\n'), [[211, 'a\n', ['211-a', '211']]]);
  assert.deepEqual(replies('211-a\r\n211x\r\n'), [[211, 'a\nx', ['211-a', '211x']]]);
  assert.deepEqual(replies('211-a\r\n2119 b\r\n'), [[211, 'a\n9 b', ['211-a', '2119 b']]]);
  // The same code with `-` is an intermediate line, its prefix stripped.
  assert.deepEqual(replies('211-a\r\n211-b\r\n211-\r\n211 c\r\n'), [[211, 'a\nb\n\nc', ['211-a', '211-b', '211-', '211 c']]]);
});

test('reply parser: intermediate lines lose one leading space, other codes stay verbatim', () => {
  assert.deepEqual(replies('211-a\r\n  two\r\n\r\n220-other\r\n220 other\r\n 211 not the end\r\n211 z\r\n'), [
    [211, 'a\n two\n\n220-other\n220 other\n211 not the end\nz', ['211-a', '  two', '', '220-other', '220 other', ' 211 not the end', '211 z']],
  ]);
});

test('reply parser: replies after a multi-line reply start afresh', () => {
  assert.deepEqual(replies('211-a\r\n211 b\r\n212-c\r\n211 d\r\n212 e\r\n213 f\r\n'), [
    [211, 'a\nb', ['211-a', '211 b']],
    [212, 'c\n211 d\ne', ['212-c', '211 d', '212 e']],
    [213, 'f', ['213 f']],
  ]);
});

test('reply parser: the line cap counts the first and the last line', () => {
  assert.deepEqual(replies('211-a\r\nb\r\n211 c\r\n', { maxLines: 3 }), [[211, 'a\nb\nc', ['211-a', 'b', '211 c']]]);
  assert.throws(() => replies('211-a\r\nb\r\nc\r\n211 d\r\n', { maxLines: 3 }), /multi-line reply too long/);
  assert.deepEqual(replies('200 a\r\n200 b\r\n', { maxLines: 1 }).length, 2, 'single-line replies are not capped');
});

test('reply parser: malformed first lines', () => {
  for (const line of ['', ' 200 ok', '20 ok', 'abc ok', '200x', '2000', '200\tok', '-200 ok']) {
    assert.throws(
      () => new ReplyParser().push(`${line}\r\n`),
      (err: unknown) => err instanceof ReplyParseError && err.message === `malformed reply line: ${JSON.stringify(line)}`,
      line,
    );
  }
  const long = `x${'y'.repeat(100)}`;
  assert.throws(() => new ReplyParser().push(`${long}\r\n`), { message: `malformed reply line: ${JSON.stringify(long.slice(0, 80))}` });
});
