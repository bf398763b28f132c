/**
 * Codecs that both the server and the client use from src/protocol: PASV /
 * EPSV reply parsing, PORT / EPRT formatting, PASS redaction, MLSx lines,
 * time-vals, 257 paths and permission strings. Whole inputs, odd inputs,
 * malformed inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatEprt, formatEpsvReply, formatHostPort, formatPasvReply, parseEprt, parseEpsvReply, parseHostPort, parsePasvReply } from '../../src/protocol/address.js';
import { redactCommand, redactCommandLine } from '../../src/protocol/command.js';
import { formatTimeVal, parseTimeVal } from '../../src/protocol/listing/facts.js';
import { formatMlsxLine, MLST_FACTS, parseMlsxLine } from '../../src/protocol/listing/mlsx.js';
import { formatListDate, parseListMonth, permissionString } from '../../src/protocol/listing/unix.js';
import { parsePathReply, quotePath } from '../../src/protocol/reply.js';

test('parseEpsvReply: whole replies from real servers, any delimiter', () => {
  assert.equal(parseEpsvReply('Entering Extended Passive Mode (|||6446|)'), 6446);
  assert.equal(parseEpsvReply('Entering Extended Passive Mode (|||6446|).'), 6446);
  assert.equal(parseEpsvReply('ok (|||1|)'), 1);
  assert.equal(parseEpsvReply('(|||65535|)'), 65535);
  assert.equal(parseEpsvReply('EPSV ok (!!!50000!)'), 50000);
  assert.equal(parseEpsvReply('(###21#)'), 21);
  assert.equal(parseEpsvReply('(   2121 )'), 2121); // a space is a delimiter too
  assert.equal(parseEpsvReply('(|||000080|)'), 80); // leading zeros are still a number
  // The first well-formed group wins; text before and after is ignored.
  assert.equal(parseEpsvReply('a (b) (|||10|) (|||20|)'), 10);
  assert.equal(parseEpsvReply('line one\n(|||7|)'), 7);
});

test('parseEpsvReply: malformed or out of range is null', () => {
  for (const text of [
    '',
    'garbage',
    'Entering Extended Passive Mode',
    '(|||0|)',
    '(|||65536|)',
    '(|||99999999999999999999|)',
    '(|||-1|)',
    '(||6446|)',
    '(|||6446||)',
    '(|||6446)',
    '|||6446|',
    '(|!|6446|)',
    '(|||6446!)',
    '(|||64 46|)',
    '(|||0x10|)',
    '(|||1e3|)',
    '(\n\n\n21\n)', // the delimiter cannot be a line break
  ]) {
    assert.equal(parseEpsvReply(text), null, JSON.stringify(text));
  }
});

test('parsePasvReply: with or without parentheses, anywhere in the text', () => {
  assert.deepEqual(parsePasvReply('Entering Passive Mode (10,1,2,3,195,81).'), { host: '10.1.2.3', port: 50001 });
  assert.deepEqual(parsePasvReply('Entering Passive Mode 10,1,2,3,195,81'), { host: '10.1.2.3', port: 50001 });
  assert.deepEqual(parsePasvReply('=127,0,0,1,0,21'), { host: '127.0.0.1', port: 21 });
  assert.deepEqual(parsePasvReply('(0,0,0,0,255,255)'), { host: '0.0.0.0', port: 65535 });
  assert.deepEqual(parsePasvReply('(010,001,002,003,000,021)'), { host: '10.1.2.3', port: 21 });
  assert.deepEqual(parsePasvReply('Passive (1,2,3,4,5,6,7)'), { host: '1.2.3.4', port: 1286 });
  assert.deepEqual(parsePasvReply('multi\nline (9,9,9,9,1,1)'), { host: '9.9.9.9', port: 257 });
});

test('parsePasvReply: malformed, over 255 or port 0 is null', () => {
  for (const text of [
    '',
    'garbage',
    'Entering Passive Mode ()',
    '(1,2,3,4,5)',
    '(1,2,3,4,256,1)',
    '(256,1,1,1,1,1)',
    '(1,2,3,4,0,0)',
    '(1, 2, 3, 4, 5, 6)', // spaces split the run of numbers
    '(1.2.3.4.5.6)',
    '(a,b,c,d,e,f)',
    '(1,2,3,4,5,-6)',
  ]) {
    assert.equal(parsePasvReply(text), null, JSON.stringify(text));
  }
  // The first run of six decides, even when it is invalid.
  assert.equal(parsePasvReply('(1,2,3,4,999,1) (1,2,3,4,5,6)'), null);
});

test('PASV and EPSV replies round-trip through their formatters', () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
      assert.deepEqual(parsePasvReply(formatPasvReply(host, port)), { host, port });
      assert.deepEqual(parseHostPort(formatHostPort(host, port)), { host, port });
      assert.equal(parseEpsvReply(formatEpsvReply(port)), port);
    }),
  );
});

test('formatHostPort and formatEprt: the PORT and EPRT arguments', () => {
  assert.equal(formatHostPort('127.0.0.1', 50000), '127,0,0,1,195,80');
  assert.equal(formatHostPort('10.0.0.1', 21), '10,0,0,1,0,21');
  assert.equal(formatHostPort('10.0.0.1', 65535), '10,0,0,1,255,255');
  assert.equal(formatEprt('127.0.0.1', 5), '|1|127.0.0.1|5|');
  assert.equal(formatEprt('::1', 65535), '|2|::1|65535|');
  assert.equal(formatEprt('fe80::1%eth0', 2000), '|2|fe80::1%eth0|2000|');
  assert.equal(formatEprt('::ffff:1.2.3.4', 21), '|2|::ffff:1.2.3.4|21|');
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65535 }), (host, port) => {
      const parsed = parseEprt(formatEprt(host, port));
      assert.deepEqual(parsed, { ok: true, family: host.includes(':') ? 2 : 1, host, port });
    }),
  );
});

test('parseEprt with zone ids and odd addresses', () => {
  assert.deepEqual(parseEprt('|2|fe80::1%eth0|2000|'), { ok: true, family: 2, host: 'fe80::1%eth0', port: 2000 });
  assert.deepEqual(parseEprt('|2|::ffff:1.2.3.4|21|'), { ok: true, family: 2, host: '::ffff:1.2.3.4', port: 21 });
  assert.deepEqual(parseEprt('|2|1.2.3.4|21|'), { ok: false, reason: 'syntax' });
  assert.deepEqual(parseEprt('|1|01.2.3.4|21|'), { ok: false, reason: 'syntax' });
  assert.deepEqual(parseEprt('|2|[::1]|21|'), { ok: false, reason: 'syntax' });
  assert.deepEqual(parseEprt('|2|::1%|21|'), { ok: false, reason: 'syntax' });
});

test('redactCommand: PASS and ACCT masked whatever their case; others untouched', () => {
  assert.equal(redactCommand('PASS', 'hunter2'), 'PASS ****');
  assert.equal(redactCommand('ACCT', 'acct'), 'ACCT ****');
  assert.equal(redactCommand('PASS', ''), 'PASS ****');
  assert.equal(redactCommand('pass', 'x'), 'pass ****');
  assert.equal(redactCommand('RETR', 'a b'), 'RETR a b');
  assert.equal(redactCommand('NOOP', ''), 'NOOP');
  assert.equal(redactCommand('PASV', ''), 'PASV');
});

test('redactCommandLine: whole lines as a client sends them', () => {
  const cases: Array<[string, string]> = [
    ['PASS hunter2', 'PASS ****'],
    ['PASS two words', 'PASS ****'],
    ['PASS ', 'PASS ****'],
    ['pass hunter2', 'pass ****'],
    ['Acct secret', 'Acct ****'],
    ['PASS\thunter2', 'PASS ****'],
    ['PASS\r\nhunter2', 'PASS ****'],
    ['PASS\nNOOP', 'PASS ****'],
    ['PASS\u00a0hunter2', 'PASS ****'], // any whitespace ends the verb
    // Nothing secret: back byte for byte.
    ['PASS', 'PASS'],
    ['PASV', 'PASV'],
    ['PASSWORD x', 'PASSWORD x'],
    ['XPASS x', 'XPASS x'],
    [' PASS x', ' PASS x'],
    ['USER anonymous', 'USER anonymous'],
    ['RETR  two  spaces ', 'RETR  two  spaces '],
    ['STOR a\tb', 'STOR a\tb'],
    ['', ''],
  ];
  for (const [line, want] of cases) assert.equal(redactCommandLine(line), want, JSON.stringify(line));
  fc.assert(
    fc.property(fc.constantFrom('PASS', 'pass', 'ACCT', 'aCcT'), fc.constantFrom(' ', '\t', '\r', '\n'), fc.string(), (verb, sep, secret) => {
      const out = redactCommandLine(`${verb}${sep}${secret}`);
      assert.equal(out, `${verb} ****`);
    }),
  );
});

test('parseTimeVal: odd and malformed time-vals', () => {
  assert.equal(parseTimeVal('20240102030405')?.toISOString(), '2024-01-02T03:04:05.000Z');
  assert.equal(parseTimeVal('20240102030405.5')?.toISOString(), '2024-01-02T03:04:05.500Z');
  assert.equal(parseTimeVal('20240102030405.123')?.toISOString(), '2024-01-02T03:04:05.123Z');
  assert.equal(parseTimeVal('19700101000000')?.getTime(), 0);
  assert.equal(parseTimeVal('20241231235960')?.toISOString(), '2025-01-01T00:00:00.000Z'); // leap second
  for (const text of [
    '',
    '2024010203040',
    '202401020304050',
    '20240102030405.',
    '20240102030405.1234',
    ' 20240102030405',
    '20240102030405 ',
    '20241302030405',
    '20240002030405',
    '20240100030405',
    '20240132030405',
    '20240102240405',
    '20240102036005',
    '20240102030461',
    '2024-01-02T03:04',
    '2024010203040a',
  ]) {
    assert.equal(parseTimeVal(text), null, JSON.stringify(text));
  }
  fc.assert(
    fc.property(fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }), (d) => {
      const whole = new Date(Math.floor(d.getTime() / 1000) * 1000);
      assert.equal(parseTimeVal(formatTimeVal(d))?.getTime(), whole.getTime());
    }),
  );
});

test('parseMlsxLine: whole lines, odd names and facts', () => {
  const p = parseMlsxLine('type=file;size=300000;modify=20240102030405.5;perm=r; a file;with=odd chars');
  assert.deepEqual(p && [...p.facts], [
    ['type', 'file'],
    ['size', '300000'],
    ['modify', '20240102030405.5'],
    ['perm', 'r'],
  ]);
  assert.equal(p?.name, 'a file;with=odd chars');
  assert.deepEqual(parseMlsxLine('Type=DIR;Modify=20240102030405; sub')?.facts.get('type'), 'DIR');
  assert.equal(parseMlsxLine('type=OS.unix=symlink;size=3; link')?.facts.get('type'), 'OS.unix=symlink');
  assert.equal(parseMlsxLine('type=file;;size=1; a')?.facts.get('size'), '1');
  assert.equal(parseMlsxLine('type=file  two spaces')?.name, ' two spaces');
  assert.equal(parseMlsxLine('type=file; -')?.name, '-');
  assert.equal(parseMlsxLine('type=file;size=1 no-trailing-semicolon')?.facts.get('size'), '1');
  assert.equal(parseMlsxLine('x=; empty value')?.facts.get('x'), '');
  for (const line of ['', 'no facts here', 'type=file;', 'type=file; ', 'nofact; name', '=x; name', 'type=file;junk; name', ' type=file; x']) {
    assert.equal(parseMlsxLine(line), null, JSON.stringify(line));
  }
});

test('parseMlsxLine reads back what formatMlsxLine writes', () => {
  const facts = new Set(MLST_FACTS);
  const entry = fc.record({
    name: fc.string({ minLength: 1 }).filter((s) => !/[\r\n]/.test(s)),
    type: fc.constantFrom('file' as const, 'dir' as const, 'link' as const, 'other' as const),
    size: fc.nat(),
    mtime: fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0, 1)), noInvalidDate: true }),
    mode: fc.nat(0o7777),
    unique: fc.option(fc.stringMatching(/^[0-9a-f]{1,16}$/), { nil: undefined }),
  });
  fc.assert(
    fc.property(entry, (e) => {
      const parsed = parseMlsxLine(formatMlsxLine(e, 'r', facts));
      assert.ok(parsed);
      assert.equal(parsed.name, e.name);
      assert.equal(parsed.facts.get('size'), e.type === 'dir' ? undefined : String(e.size));
      assert.equal(parsed.facts.get('modify'), formatTimeVal(e.mtime));
      assert.equal(parsed.facts.get('unique'), e.unique);
    }),
  );
});

test('parsePathReply: the inverse of quotePath', () => {
  assert.equal(parsePathReply('"/" is the current directory'), '/');
  assert.equal(parsePathReply('"/a ""b"""  created'), '/a "b"');
  assert.equal(parsePathReply('""'), '');
  assert.equal(parsePathReply('MKD ok: "/x" and "/y"'), '/x');
  assert.equal(parsePathReply('no quotes'), null);
  assert.equal(parsePathReply('"unterminated'), null);
  assert.equal(parsePathReply(''), null);
  fc.assert(fc.property(fc.string(), (p) => parsePathReply(`${quotePath(p)} is current`) === p));
});

test('permissionString: low nine bits as ls shows them', () => {
  assert.equal(permissionString(0o644), 'rw-r--r--');
  assert.equal(permissionString(0o755), 'rwxr-xr-x');
  assert.equal(permissionString(0), '---------');
  assert.equal(permissionString(0o777), 'rwxrwxrwx');
  assert.equal(permissionString(0o4755), 'rwxr-xr-x');
  assert.equal(permissionString(0o100640), 'rw-r-----');
});

test('parseListMonth: the inverse of the month formatListDate prints', () => {
  for (let month = 0; month < 12; month++) {
    const text = formatListDate(new Date(Date.UTC(2020, month, 15)), new Date(Date.UTC(2030, 0, 1)));
    assert.equal(parseListMonth(text.slice(0, 3)), month, text);
  }
  assert.equal(parseListMonth('jan'), 0);
  assert.equal(parseListMonth('DEC'), 11);
  assert.equal(parseListMonth('sEp'), 8);
  for (const text of ['', 'Ja', 'Janu', 'January', 'Jan ', ' Jan', 'Foo', '1', 'Mai']) {
    assert.equal(parseListMonth(text), -1, JSON.stringify(text));
  }
});
