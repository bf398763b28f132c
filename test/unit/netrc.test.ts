/** The ~/.netrc reader of the client CLI: tokens, quoting, comments, macdef bodies, and lookup. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lookupNetrc, parseNetrc, type NetrcEntry } from '../../src/cli/client/netrc.js';

const entry = (machine: string | undefined, login?: string, password?: string): NetrcEntry => ({ machine, login, password });

test('netrc: machine and default entries, on one line or many, CRLF or LF', () => {
  assert.deepEqual(parseNetrc('machine a login u password p\r\nmachine b\n  login v\n  password q\ndefault login anonymous password me@x\n'), [
    entry('a', 'u', 'p'),
    entry('b', 'v', 'q'),
    entry(undefined, 'anonymous', 'me@x'),
  ]);
  assert.deepEqual(parseNetrc(''), []);
  assert.deepEqual(parseNetrc('machine a'), [entry('a')]);
});

test('netrc: account is read and dropped; unknown words are skipped one at a time', () => {
  assert.deepEqual(parseNetrc('machine a account acct login u port 21 password p'), [entry('a', 'u', 'p')]);
  // `port` is unknown: it is skipped, then its value, which is a keyword here, is read as one.
  assert.deepEqual(parseNetrc('machine a port login u'), [entry('a', 'u')]);
});

test('netrc: keywords before the first machine are ignored, their values read as words', () => {
  assert.deepEqual(parseNetrc('login u password p machine a login v'), [entry('a', 'v')]);
  assert.deepEqual(parseNetrc('login machine a'), [entry('a')]);
});

test('netrc: a keyword takes the next token whatever it is; a keyword at the end gets undefined', () => {
  assert.deepEqual(parseNetrc('machine a login password'), [entry('a', 'password')]);
  assert.deepEqual(parseNetrc('machine a login u password'), [entry('a', 'u')]);
  assert.deepEqual(parseNetrc('machine a login u machine'), [entry('a', 'u'), entry(undefined)]);
  assert.deepEqual(parseNetrc('machine machine login u'), [entry('machine', 'u')]);
  assert.deepEqual(parseNetrc('default machine b'), [entry(undefined), entry('b')]);
  assert.deepEqual(parseNetrc('machine a login u login v password p password q'), [entry('a', 'v', 'q')]);
});

test('netrc: double quotes keep spaces, backslash escapes anything; a lone quote is cut', () => {
  assert.deepEqual(parseNetrc('machine a login "John Smith" password "p\\"w\\\\d x"'), [entry('a', 'John Smith', 'p"w\\d x')]);
  assert.deepEqual(parseNetrc('machine a password ""'), [entry('a', undefined, '')]);
  assert.deepEqual(parseNetrc('machine a password "abc'), [entry('a', undefined, 'ab')]);
  assert.deepEqual(parseNetrc('machine a password pa"ss"'), [entry('a', undefined, 'pa"ss"')]);
  // A quoted keyword is a keyword once unquoted.
  assert.deepEqual(parseNetrc('"machine" a "login" u'), [entry('a', 'u')]);
});

test('netrc: whole-line comments are dropped, a # later in a line is a word', () => {
  assert.deepEqual(parseNetrc('# machine x login y\n   # indented comment\nmachine a login u#1 password #p'), [entry('a', 'u#1', '#p')]);
});

test('netrc: a macdef body runs to the next empty or blank line, and the rest of its line is dropped', () => {
  const text = [
    'machine a login u',
    'macdef init password ignored',
    'cd /pub',
    'machine evil login root',
    '   ',
    'password p',
    'macdef last',
    'machine x',
    '',
    '',
    'machine b login v',
    'macdef final',
    'machine never',
  ].join('\n');
  assert.deepEqual(parseNetrc(text), [entry('a', 'u', 'p'), entry('b', 'v')]);
  assert.deepEqual(parseNetrc('machine a macdef\nmachine b\n\nlogin u'), [entry('a', 'u')]);
  // macdef leaves no token: the login takes the next one.
  assert.deepEqual(parseNetrc('machine a login macdef\nx\n\npassword p'), [entry('a', 'password')]);
  // Quoted, it is an ordinary word (and here the login).
  assert.deepEqual(parseNetrc('machine a login "macdef"\nmachine b'), [entry('a', 'macdef'), entry('b')]);
});

test('netrc: lookup by host, then by login, then the default entry; missing file is undefined', async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-netrc-'));
  try {
    const file = path.join(dir, 'netrc');
    await fs.promises.writeFile(file, 'machine h login a password 1\nmachine h login b password 2\nmachine g password 3\ndefault login anonymous password 4\n');
    const env = { NETRC: file };
    assert.deepEqual(lookupNetrc('h', undefined, env), entry('h', 'a', '1'));
    assert.deepEqual(lookupNetrc('h', 'b', env), entry('h', 'b', '2'));
    assert.deepEqual(lookupNetrc('g', 'z', env), entry('g', undefined, '3'));
    assert.deepEqual(lookupNetrc('h', 'z', env), undefined);
    assert.deepEqual(lookupNetrc('other', undefined, env), entry(undefined, 'anonymous', '4'));
    assert.deepEqual(lookupNetrc('h', undefined, { HOME: dir }), undefined);
    await fs.promises.writeFile(path.join(dir, '.netrc'), 'machine h login c\n');
    assert.deepEqual(lookupNetrc('h', undefined, { HOME: dir }), entry('h', 'c'));
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
});
