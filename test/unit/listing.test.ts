import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatListDate, formatUnixLine } from '../../src/protocol/listing/unix.js';
import { formatMlsxLine, mlstFeature, parseMlstOpts, MLST_FACTS } from '../../src/protocol/listing/mlsx.js';
import { formatTimeVal, parseTimeVal } from '../../src/protocol/listing/facts.js';

const now = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));

test('ls -l lines: recent files show the time, old ones the year', () => {
  const recent = { name: 'file name.txt', type: 'file' as const, size: 1234, mtime: new Date(Date.UTC(2026, 10, 2, 9, 5)), mode: 0o644 };
  assert.equal(formatUnixLine(recent, now), '-rw-r--r--   1 ftp      ftp              1234 Nov  2 09:05 file name.txt');
  const old = { name: 'pub', type: 'dir' as const, size: 4096, mtime: new Date(Date.UTC(2020, 0, 15)), mode: 0o755 };
  assert.equal(formatUnixLine(old, now), 'drwxr-xr-x   2 ftp      ftp              4096 Jan 15  2020 pub');
  assert.equal(formatListDate(new Date(Date.UTC(2027, 0, 1)), now), 'Jan  1  2027');
});

test('ls -l lines parse with the usual regex clients use', () => {
  const line = formatUnixLine({ name: 'ünï côdé', type: 'file', size: 7, mtime: now, mode: 0o600 }, now);
  const m = /^([-dlp])([rwx-]{9})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\w{3}\s+\d{1,2}\s+(?:\d{2}:\d{2}|\d{4}))\s(.+)$/.exec(line);
  assert.ok(m, line);
  assert.equal(m[6], '7');
  assert.equal(m[8], 'ünï côdé');
});

test('MLSx facts', () => {
  const all = new Set(MLST_FACTS);
  const e = { name: 'a.bin', type: 'file' as const, size: 10, mtime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), mode: 0o644, unique: '801.1a' };
  assert.equal(formatMlsxLine(e, 'r', all), 'type=file;size=10;modify=20260102030405;perm=r;unique=801.1a; a.bin');
  const dir = { ...e, name: 'd', type: 'dir' as const };
  assert.equal(formatMlsxLine(dir, 'el', new Set(['type', 'perm'] as const)), 'type=dir;perm=el; d');
  assert.equal(formatMlsxLine(dir, 'el', new Set(['type'] as const), { name: '.', role: 'cdir' }), 'type=cdir; .');
  assert.equal(mlstFeature(new Set(['type', 'size'] as const)), 'MLST type*;size*;modify;perm;unique;');
  assert.deepEqual([...parseMlstOpts('Type;SIZE;bogus;')], ['type', 'size']);
});

test('time-val round trip and rejection', () => {
  const d = new Date(Date.UTC(2026, 10, 22, 16, 20, 7));
  assert.equal(formatTimeVal(d), '20261122162007');
  assert.deepEqual(parseTimeVal('20261122162007'), d);
  assert.equal(parseTimeVal('20261122162007.5')?.getTime(), d.getTime() + 500);
  assert.equal(parseTimeVal('2026112216200'), null);
  assert.equal(parseTimeVal('20261322162007'), null);
  assert.equal(parseTimeVal('../../etc/passwd'), null);
});
