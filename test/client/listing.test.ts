import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDosLine, parseList, parseListLine, parseMlsd, parseMlsdLine, parseMlsdTime, parseUnixLine } from '../../src/client/listing/index.js';

const NOW = new Date(Date.UTC(2024, 5, 15, 12, 0));

test('unix: vsftpd/pyftpdlib lines, recent and old', () => {
  const f = parseUnixLine('-rw-r--r--    1 0        0          300000 Jun 10 09:05 big file.bin', NOW);
  assert.equal(f?.name, 'big file.bin');
  assert.equal(f?.type, 'file');
  assert.equal(f?.size, 300000);
  assert.equal(f?.permissions, 'rw-r--r--');
  assert.equal(f?.modifiedAt?.toISOString(), '2024-06-10T09:05:00.000Z');
  const d = parseUnixLine('drwxr-xr-x    2 ftp      ftp          4096 Mar 15  2020 pub', NOW);
  assert.equal(d?.type, 'directory');
  assert.equal(d?.name, 'pub');
  assert.equal(d?.modifiedAt?.toISOString(), '2020-03-15T00:00:00.000Z');
});

test('unix: a date without year in the future means last year', () => {
  const f = parseUnixLine('-rw-r--r-- 1 user group 5 Dec 31 23:59 x', NOW);
  assert.equal(f?.modifiedAt?.toISOString(), '2023-12-31T23:59:00.000Z');
});

test('unix: symlinks, no group column, names with leading spaces, ACL markers', () => {
  const l = parseUnixLine('lrwxrwxrwx   1 root root 11 Jan  1 00:00 latest -> release-1.2', NOW);
  assert.equal(l?.type, 'symlink');
  assert.equal(l?.name, 'latest');
  assert.equal(l?.target, 'release-1.2');
  const g = parseUnixLine('-rw-r--r-- 1 owner 1234 Feb  2 10:00 nogroup.txt', NOW);
  assert.equal(g?.name, 'nogroup.txt');
  assert.equal(g?.size, 1234);
  const s = parseUnixLine('-rw-r--r--+ 1 a b 7 Feb  2 10:00  two spaces', NOW);
  assert.equal(s?.name, ' two spaces');
  const n = parseUnixLine('-rw-r--r-- 1 a b 7 Feb  2 10:00 1999', NOW);
  assert.equal(n?.name, '1999');
});

test('unix: ISO dates', () => {
  const f = parseUnixLine('-rw-r--r-- 1 a b 42 2023-04-05 06:07 iso.txt', NOW);
  assert.equal(f?.name, 'iso.txt');
  assert.equal(f?.modifiedAt?.toISOString(), '2023-04-05T06:07:00.000Z');
});

test('unix: total lines, . and .. are skipped', () => {
  assert.equal(parseUnixLine('total 12', NOW), undefined);
  assert.equal(parseUnixLine('drwxr-xr-x 2 a b 4096 Jan 1 00:00 .', NOW), undefined);
  assert.equal(parseUnixLine('drwxr-xr-x 2 a b 4096 Jan 1 00:00 ..', NOW), undefined);
});

test('dos/iis lines', () => {
  const d = parseDosLine('01-02-24  10:00AM       <DIR>          My Documents');
  assert.equal(d?.type, 'directory');
  assert.equal(d?.name, 'My Documents');
  assert.equal(d?.size, undefined);
  assert.equal(d?.modifiedAt?.toISOString(), '2024-01-02T10:00:00.000Z');
  const f = parseDosLine('12-31-1999  11:59PM              1234 file.txt');
  assert.equal(f?.type, 'file');
  assert.equal(f?.size, 1234);
  assert.equal(f?.modifiedAt?.toISOString(), '1999-12-31T23:59:00.000Z');
  const noon = parseDosLine('07-04-98  12:30AM  5 a');
  assert.equal(noon?.modifiedAt?.toISOString(), '1998-07-04T00:30:00.000Z');
  assert.equal(parseDosLine('-rw-r--r-- 1 a b 5 Jan 1 00:00 x'), undefined);
});

test('mlsd lines', () => {
  const f = parseMlsdLine('type=file;size=300000;modify=20240102030405.5;perm=r; a file;with=odd chars');
  assert.equal(f?.name, 'a file;with=odd chars');
  assert.equal(f?.type, 'file');
  assert.equal(f?.size, 300000);
  assert.equal(f?.permissions, 'r');
  assert.equal(f?.modifiedAt?.toISOString(), '2024-01-02T03:04:05.500Z');
  assert.equal(parseMlsdLine('Type=DIR;Modify=20240102030405; sub')?.type, 'directory');
  assert.equal(parseMlsdLine('type=cdir;modify=20240102030405; .'), undefined);
  assert.equal(parseMlsdLine('type=pdir; ..'), undefined);
  assert.equal(parseMlsdLine('type=OS.unix=symlink;size=3; link')?.type, 'symlink');
  assert.equal(parseMlsdLine('no facts here'), undefined);
  assert.equal(parseMlsdTime('2024010203040'), undefined);
});

test('parseList detects the format per line and skips noise', () => {
  const text = 'total 3\r\n-rw-r--r-- 1 a b 5 Jan  1 00:00 u.txt\r\n01-02-24  10:00AM  7 d.txt\r\ngarbage\r\n\r\n';
  assert.deepEqual(
    parseList(text, NOW).map((f) => f.name),
    ['u.txt', 'd.txt'],
  );
  assert.equal(parseListLine('garbage', NOW), undefined);
  assert.deepEqual(
    parseMlsd('type=file;size=1; a\r\ntype=dir; b\r\n').map((f) => [f.name, f.type]),
    [
      ['a', 'file'],
      ['b', 'directory'],
    ],
  );
});
